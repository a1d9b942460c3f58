"""Incident replays (issue #18): the thefts behind the regulators' demands, rebuilt on the
in-process chain and run through Kinko's real services, signer, watcher and monitor.

`scenarios` describes each incident (pure, sourced figures); `runner` performs the
attacker's moves against a `Bench` (an exchange built by the composition root) and reads
the outcome from what Kinko recorded; `model` holds the result record and its JSON form
(docs/replays.md).
"""
