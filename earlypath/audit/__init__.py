"""The cohort audit: who was eligible for progesterone and not offered it, by site and group.

Cohorts are read (`load`), checked in the engine (`validate`), judged by the batch engine
compiled from the rule IR (`earlypath.engines.batch`), summarised into adherence measures with
their governance (`measures`, `governance`) and reported (`report`, `funnel`). Synthetic
cohorts are made by `earlypath.synth`, not here. Nothing in this package states a clinical rule.
"""
