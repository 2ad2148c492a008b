"""The quality loop: known answers, swapped repeats, annotator competence, review.

gold.py        gold pairs: marking them, mixing them into a queue, gold accuracy
repeats.py     swapped repeats: mixing them in, their answers, self-consistency
competence.py  Dawid–Skene: each annotator's confusion matrix and each item's posterior
annotators.py  per-annotator figures and flags (the API and the dashboard)
review.py      the admin item browser, adjudications and annotators' flags
"""
