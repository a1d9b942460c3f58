"""How `kinko serve` runs: one process, or (`--workers N`) a supervisor and N HTTP workers
(docs/serving.md; ADR 0003 says where this is going)."""
