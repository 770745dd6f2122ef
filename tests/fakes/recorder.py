"""An opportunity log in memory, for tests that look at what became of each opportunity."""

from __future__ import annotations

from arbitrage.opportunity import Opportunity, OutcomeKind, OutcomeRecord


class InMemoryRecorder:
    def __init__(self) -> None:
        self.opportunities: dict[str, Opportunity] = {}
        self.outcomes: list[OutcomeRecord] = []

    async def record_detected(self, opportunity: Opportunity) -> None:
        self.opportunities[opportunity.opportunity_id] = opportunity
        self.outcomes.append(OutcomeRecord(opportunity_id=opportunity.opportunity_id, kind=OutcomeKind.DETECTED))

    async def record_outcome(self, opportunity_id: str, kind: OutcomeKind, reason: str | None = None) -> None:
        if opportunity_id not in self.opportunities:
            raise KeyError(f"unknown opportunity {opportunity_id}")
        self.outcomes.append(OutcomeRecord(opportunity_id=opportunity_id, kind=kind, reason=reason))

    def history(self, opportunity_id: str) -> list[OutcomeRecord]:
        return [o for o in self.outcomes if o.opportunity_id == opportunity_id]
