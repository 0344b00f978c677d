"""Request and response bodies of the DATEV export."""
from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from domain.fields import Day, Strict


class DatevExportIn(Strict):
    date_from: Day = Field(description="the first issue day of the period")
    date_to: Day = Field(description="the last issue day of the period (within the same fiscal year)")


class DatevExportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    date_from: date
    date_to: date
    row_count: int = Field(description="bookings in the Buchungsstapel")
    document_count: int = Field(description="invoice and credit-note files beside it")
    filename: str
    created_at: datetime
    created_by: str
