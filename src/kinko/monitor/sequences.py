"""The sequence tests of Sigma's temporal correlations (specification v2.1.0), over one
group's sorted match times per referenced rule (`kinko.monitor.correlation` keeps them):
how many of the rules matched inside a window, and whether enough of them matched in the
order the correlation lists them. Pure: values in, a count or a yes/no out."""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from sigma.correlations import SigmaCorrelationConditionOperator as Op

Times = list[list[float] | None]  # per referenced rule, in the rule's order; None: no match


def rules_present(lists: Times, start: float, end: float) -> int:
    """How many of the referenced rules matched inside ``[start, end]``."""
    return sum(
        1 for times in lists if times and bisect_right(times, end) > bisect_left(times, start)
    )


def in_order(lists: Times, start: float, end: float, need: int) -> bool:
    """Whether `need` referenced rules matched in the order listed inside ``[start, end]``
    (equal times count as in order). Greedy: for each chain length, the earliest time a
    chain of that length can end leaves the most room after it."""
    if need <= 0:
        return True
    if sum(1 for times in lists if times and times[-1] >= start) < need:
        return False  # fewer rules than needed matched in the window at all
    inf = float("inf")
    # ends[length - 1]: the earliest time a chain of that length ends, over the rules so far
    ends = [inf] * need
    for times in lists:
        if not times or times[-1] < start:
            continue
        row = [inf] * need
        first = bisect_left(times, start)
        if first < len(times) and times[first] <= end:
            row[0] = times[first]
        for length in range(1, need):
            after = ends[length - 1]
            if after == inf:
                break
            k = bisect_left(times, after)
            if k < len(times) and times[k] <= end:
                row[length] = times[k]
        if row[need - 1] != inf:
            return True
        ends = [min(a, b) for a, b in zip(ends, row, strict=True)]
    return False


def needed_in_order(op: Op, threshold: float) -> int:
    """How many rules in order a gt/gte temporal_ordered condition asks for."""
    if op is Op.GT:
        return int(threshold) + 1
    return int(-(-threshold // 1))
