"""Request and response bodies of /users (administrators) and /me (every signed-in user)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from api.params import MAX_ID
from domain.fields import Email, Phone, Strict, Text, bounded_text, matching
from domain.passwords import MAX_LENGTH, MIN_LENGTH

Group = Annotated[str, *matching(r"^[a-z][a-z0-9_]{0,49}$", "a group name: a lowercase letter, then up to 49 "
                                                            "lowercase letters, digits or _"),
                  Field(description="a role (sales, approver, manager, ops, admin, reviewer, portal) or a lane, "
                                    "e.g. team_lead")]
Groups = Annotated[list[Group], Field(min_length=1, max_length=30)]
NewPassword = bounded_text(MIN_LENGTH, MAX_LENGTH)
Username = Annotated[str, StringConstraints(min_length=1, max_length=100),
                     *matching(r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$",
                               "letters A-Z and a-z, digits and . _ @ + -, beginning with a letter or digit")]


# The document says what the validator below does: a customer named by id and by number is refused.
_ONE_WAY_TO_NAME_THE_CUSTOMER = {"not": {"required": ["customer_id", "customer_number"],
                                         "properties": {"customer_id": {"type": "integer"},
                                                        "customer_number": {"type": "string"}}}}


class UserIn(Strict):
    model_config = ConfigDict(json_schema_extra=_ONE_WAY_TO_NAME_THE_CUSTOMER)
    username: Username
    full_name: Text | None = Field(None, max_length=200)
    email: Email | None = None
    phone: Phone | None = None
    groups: Groups
    customer_id: int | None = Field(None, ge=1, le=MAX_ID, description="portal users: the customer they belong to")
    customer_number: Text | None = Field(None, max_length=20, description="portal users: the customer by its "
                                                                          "number, e.g. V-000012 (or send its id)")
    password: NewPassword = Field(description="the initial one-time password: the user changes it at the first "
                                              "login before doing anything else")

    @field_validator("customer_number")
    @classmethod
    def _one_way_to_name_the_customer(cls, number: str | None, info: ValidationInfo) -> str | None:
        if number is not None and info.data.get("customer_id") is not None:
            raise PydanticCustomError("one_customer", "send the customer's id or its number, not both")
        return number


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    full_name: str | None
    email: str | None
    phone: str | None
    groups: list[str]
    active: bool
    customer_id: int | None
    must_change_password: bool = Field(description="a one-time password waits to be changed")
    created_at: datetime
    version: int


class GroupsIn(Strict):
    groups: Groups
    version: int = Field(ge=1, le=MAX_ID, description="the version you read")


class OneTimePasswordIn(Strict):
    password: NewPassword = Field(description="a one-time password: the user changes it at the next login")


class MeOut(BaseModel):
    username: str
    full_name: str | None
    email: str | None
    phone: str | None
    groups: list[str]
    customer_id: int | None = Field(description="portal users: the customer they belong to")
    customer_number: str | None
    customer_name: str | None
    must_change_password: bool


class PasswordChangeIn(Strict):
    current_password: bounded_text(1, MAX_LENGTH)  # type: ignore[valid-type]
    new_password: NewPassword


class SecurityEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    kind: str = Field(description="login_failed, user_created, groups_changed, user_deactivated, user_reactivated, "
                                  "password_reset, password_changed, logged_out_everywhere")
    username: str
    actor: str | None = Field(description="who made the change: an administrator, `cli` for the command line; "
                                          "null when the user did it themselves (or, for a failed login, whoever "
                                          "tried)")
    client_address: str | None
    reason: str | None
    details: dict[str, Any] | None = Field(description="what changed, e.g. the groups before and after")
