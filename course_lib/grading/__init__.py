"""Exercises and grading: ``check`` for students, ``release`` and ``grade`` for instructors."""

from .checks import CheckFailed, case, check, check_answer

__all__ = ["CheckFailed", "case", "check", "check_answer"]
