"""Grading a room's notebooks: trustworthy verdicts, a folder at a time.

* :mod:`coursekit.grading.engine` grades one learner notebook on what its code really does
  (the course's checks, imported afresh, verdicts through a channel the learner cannot print
  into); ``coursekit check`` uses it for one learner.
* :mod:`coursekit.grading.room` grades a folder of submissions in parallel and writes the
  instructor's reports (``coursekit grade``).
* :mod:`coursekit.grading.kernel` is the grader's side inside the learner's kernel; it imports
  nothing heavy, which is why this package's ``__init__`` imports nothing either.
"""
