"""Tokens for people and machines."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from loom.platform.api.context import services
from loom.platform.security.tokens import login

router = APIRouter(tags=["auth"])


class Credentials(BaseModel):
    email: str
    password: str


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"


@router.post("/api/auth/token", response_model=TokenOut,
             summary="Exchange email and password for a bearer token")
async def token(request: Request, credentials: Credentials) -> TokenOut:
    svc = services(request)
    async with svc.database.write() as conn:
        access_token = await login(conn, credentials.email, credentials.password, svc.clock,
                                   svc.settings.token_days)
    return TokenOut(access_token=access_token)
