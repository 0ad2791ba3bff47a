"""What a password must be: long enough, not too long to hash, and not the email itself.

Length is what makes a password hard to guess (NIST SP 800-63B); composition rules ("one
digit, one symbol") only make people write them down, so there are none.
"""

from __future__ import annotations

from loom.metamodel.errors import Problem, ValidationFailed
from loom.metamodel.i18n import message, register_messages

MIN_LENGTH = 10
MAX_LENGTH = 256

register_messages({
    "password_too_short": {
        "en": "The password needs at least {min} characters",
        "zh-CN": "密码至少需要 {min} 个字符",
    },
    "password_too_long": {
        "en": "The password may have at most {max} characters",
        "zh-CN": "密码最多 {max} 个字符",
    },
    "password_is_email": {
        "en": "The password must not be the email address",
        "zh-CN": "密码不能与邮箱地址相同",
    },
    "password_has_nul": {
        "en": "The password must not contain a NUL character",
        "zh-CN": "密码不能包含 NUL 字符",
    },
    "password_rejected": {
        "en": "The password does not meet the password rules",
        "zh-CN": "密码不符合密码规则",
    },
})


def password_problems(password: str, email: str | None, field: str = "password") -> list[Problem]:
    """Every way ``password`` breaks the rules, as problems of ``field``."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(Problem(field, message("password_too_short", min=MIN_LENGTH),
                                code="too_short"))
    if len(password) > MAX_LENGTH:
        problems.append(Problem(field, message("password_too_long", max=MAX_LENGTH),
                                code="too_long"))
    if email and password.strip().lower() == email.strip().lower():
        problems.append(Problem(field, message("password_is_email"), code="is_email"))
    if "\x00" in password:
        problems.append(Problem(field, message("password_has_nul"), code="nul"))
    return problems


def check_password(password: str, email: str | None, field: str = "password") -> None:
    """Raise ValidationFailed listing what is wrong with ``password``, if anything is."""
    problems = password_problems(password, email, field)
    if problems:
        raise ValidationFailed(message("password_rejected"), problems)
