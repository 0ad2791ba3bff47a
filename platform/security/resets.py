"""Password reset by email: a single-use link, valid for an hour, stored only as a hash and
sent through the outbox in the user's language.

Asking for a reset answers the same whether or not the email has an account, and a few
requests per hour per account are honoured at most, so the form can neither list accounts
nor flood someone's mailbox. Using the link sets the new password, ends every session and
token of the account (whoever had the old password is out) and lifts a sign-in lock.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import Problem, ValidationFailed
from loom.metamodel.i18n import DEFAULT_LOCALE, LOCALES, message, register_messages
from loom.platform.outbox.store import enqueue
from loom.platform.security import trail
from loom.platform.security.password_policy import check_password
from loom.platform.security.passwords import hash_password
from loom.platform.security.throttle import clear_email
from loom.platform.security.tokens import digest, revoke_user_tokens
from loom.platform.settings import Settings
from loom.platform.storage.system_tables import password_resets, users

RESET_PREFIX = "loom_reset_"
MAX_PER_HOUR = 3

register_messages({
    "reset_subject": {"en": "Reset your Loom password", "zh-CN": "重置您的 Loom 密码"},
    "reset_text": {
        "en": "Hello {name},\n\nSomeone (we hope you) asked to reset the password of your "
              "Loom account {email}. Open this link within {minutes} minutes to choose a new "
              "password:\n\n{link}\n\nThe link works once. If you did not ask for it, ignore "
              "this email: your password stays as it is.\n",
        "zh-CN": "{name}，您好：\n\n有人（希望是您本人）申请重置 Loom 账户 {email} 的密码。"
                 "请在 {minutes} 分钟内打开以下链接设置新密码：\n\n{link}\n\n"
                 "该链接只能使用一次。如果这不是您本人的操作，请忽略此邮件，您的密码不会改变。\n",
    },
    "reset_invalid": {
        "en": "The reset link is unknown, used or expired; ask for a new one",
        "zh-CN": "重置链接无效、已使用或已过期，请重新申请",
    },
    "reset_failed": {"en": "The password was not reset", "zh-CN": "密码未能重置"},
})


async def request_reset(conn: AsyncConnection, email: str, now: datetime,
                        settings: Settings) -> None:
    """Send a reset link to ``email`` if it is an active account (else do nothing)."""
    email = (email or "").strip().lower()
    if "\x00" in email or len(email) > 320:
        return
    user = (await conn.execute(select(users).where(
        users.c.email == email, users.c.active.is_(True)))).mappings().first()
    if user is None:
        return
    recent = await conn.scalar(select(func.count()).select_from(password_resets).where(
        password_resets.c.user_id == user["id"],
        password_resets.c.created_at > now - timedelta(hours=1)))
    if recent >= MAX_PER_HOUR:
        return
    token = RESET_PREFIX + secrets.token_urlsafe(32)
    minutes = settings.password_reset_minutes
    reset_id = (await conn.execute(insert(password_resets).values(
        user_id=user["id"], token_hash=digest(token), created_at=now,
        expires_at=now + timedelta(minutes=minutes)).returning(password_resets.c.id))
    ).scalar_one()
    locale = user["locale"] if user["locale"] in LOCALES else DEFAULT_LOCALE
    link = f"{settings.link_base()}/reset-password?token={token}"
    text = message("reset_text", name=user["name"], email=email, minutes=minutes,
                   link=link).render(locale)
    await enqueue(conn, workspace_id=user["workspace_id"], app_id=None, kind="email",
                  key=f"password-reset:{reset_id}", now=now, payload={
                      "to": [email], "subject": message("reset_subject").render(locale),
                      "text": text})


async def confirm_reset(conn: AsyncConnection, token: str, password: str,
                        now: datetime) -> int:
    """Set the new password of the link's account; returns the user's id."""
    row = None
    if token.startswith(RESET_PREFIX) and len(token) <= 200:
        row = (await conn.execute(
            select(password_resets.c.user_id, users.c.email, users.c.active,
                   users.c.workspace_id)
            .join(users, users.c.id == password_resets.c.user_id)
            .where(password_resets.c.token_hash == digest(token),
                   password_resets.c.used_at.is_(None),
                   password_resets.c.expires_at > now).with_for_update())).mappings().first()
    if row is None or not row["active"]:
        raise ValidationFailed(message("reset_failed"),
                               [Problem("token", message("reset_invalid"), code="invalid")])
    check_password(password, row["email"])
    user_id = row["user_id"]
    await conn.execute(update(users).where(users.c.id == user_id)
                       .values(password_hash=hash_password(password)))
    await void_resets(conn, user_id, now)
    await revoke_user_tokens(conn, user_id, now)
    await clear_email(conn, row["email"])
    # by whoever held the link: the account's own person, as far as anyone can tell
    await trail.note(conn, row["workspace_id"], None, "password_reset", user_id, now,
                     source="api")
    return user_id


async def void_resets(conn: AsyncConnection, user_id: int, now: datetime) -> None:
    """Every unused link of the account stops working."""
    await conn.execute(update(password_resets).where(
        password_resets.c.user_id == user_id, password_resets.c.used_at.is_(None))
        .values(used_at=now))


async def purge_resets(conn: AsyncConnection, now: datetime) -> int:
    """Drop links used or expired more than a day ago (the hourly cap looks back one hour)."""
    cutoff = now - timedelta(days=1)
    result = await conn.execute(password_resets.delete().where(or_(
        password_resets.c.expires_at <= cutoff, password_resets.c.used_at <= cutoff)))
    return result.rowcount or 0
