"""The labelling flow: leases (assign), verdicts (judge), per-annotator progress and the
comparison tallies they keep current."""
