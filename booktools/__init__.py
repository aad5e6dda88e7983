"""Maintainer tooling: builds and checks the book's site (``python -m booktools.book``).

Kept apart from ``course_lib``, which holds only what notebooks and exercises import, so a student
reading the library sees the course and not the build. Run it from the repository root.
"""
