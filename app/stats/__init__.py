"""Aggregate figures about projects and their labels, computed in the database.

Every figure here is one grouped query (or a few), never a loop over judgements in Python:
``progress`` (how far a project and its batches are), ``annotators`` (pace, tie and both-bad
rates, position bias), ``agreement`` (percent agreement, Krippendorff's alpha, agreement with
the majority), and ``dashboard``, which gathers them for the quality page. Days are UTC days.
"""
