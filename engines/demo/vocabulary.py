"""Realistic Chinese business data from a vocabulary file (``data/zh_cn.json``): names,
mobile numbers, companies, addresses, emails. Every function takes the random generator
it draws from, so the same seed gives the same values."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data" / "zh_cn.json"
SAFE_TLD = "example"  # reserved (RFC 2606): a demo email never reaches a real mailbox


@dataclass(frozen=True)
class Vocabulary:
    surnames: list[dict[str, Any]]
    surname_weights: list[int]
    given: list[dict[str, str]]
    regions: dict[str, dict[str, Any]]
    brands: list[dict[str, str]]
    industries: dict[str, list[str]]
    suffixes: dict[str, int]
    streets: list[str]
    districts: list[str]
    mobile_prefixes: list[str]

    def person_name(self, rng: random.Random) -> str:
        surname = rng.choices(self.surnames, self.surname_weights)[0]["text"]
        length = 1 if rng.random() < 0.3 else 2  # about a third of names have one character
        return surname + "".join(rng.choice(self.given)["text"] for _ in range(length))

    def pinyin(self, name: str) -> str:
        """A name spelled for an email address: 张伟 → zhang.wei, 欧阳晓明 → ouyang.xiaoming."""
        for surname in sorted(self.surnames, key=lambda s: -len(s["text"])):
            if name.startswith(surname["text"]):
                rest = name[len(surname["text"]):]
                return f"{surname['pinyin']}.{self._spell(rest)}".strip(".")
        return self._spell(name) or "user"

    def _spell(self, text: str) -> str:
        table = {g["text"]: g["pinyin"] for g in self.given}
        table.update({b["text"]: b["pinyin"] for b in self.brands})
        return "".join(table.get(ch, "") for ch in text)

    def mobile(self, rng: random.Random) -> str:
        return rng.choice(self.mobile_prefixes) + f"{rng.randrange(10**8):08d}"

    def region_key(self, rng: random.Random, region: Any) -> str:
        return region if region in self.regions else rng.choice(sorted(self.regions))

    def city(self, rng: random.Random, region: Any = None) -> dict[str, str]:
        return rng.choice(self.regions[self.region_key(rng, region)]["cities"])

    def company_name(self, rng: random.Random, city: dict[str, str],
                     industry: Any = None) -> str:
        """城市 + 字号 + 行业 + 有限公司, e.g. 苏州瑞达精密制造有限公司."""
        city_name = city["city"]
        brand = rng.choice(self.brands)["text"]
        words = self.industries.get(industry) if isinstance(industry, str) else None
        trade = rng.choice(words or [w for ws in self.industries.values() for w in ws])
        suffix = rng.choices(list(self.suffixes), list(self.suffixes.values()))[0]
        if rng.random() < 0.25:  # the other common form: 字号 + 行业（城市）有限公司
            return f"{brand}{trade}（{city_name}）{suffix}"
        return f"{city_name}{brand}{trade}{suffix}"

    def company_domain(self, company: str) -> str:
        """The domain of a company's (fictional) mail: its 字号 in pinyin, under .example."""
        for brand in self.brands:
            if brand["text"] in company:
                return f"{brand['pinyin']}.{SAFE_TLD}"
        return f"company.{SAFE_TLD}"

    def address(self, rng: random.Random, city: dict[str, str]) -> dict[str, str]:
        return {"country": "中国", "province": city["province"], "city": city["city"],
                "district": rng.choice(self.districts),
                "street": f"{rng.choice(self.streets)}{rng.randint(1, 999)}号"}


@cache
def vocabulary() -> Vocabulary:
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    return Vocabulary(
        surnames=raw["surnames"], surname_weights=[s["weight"] for s in raw["surnames"]],
        given=raw["given"], regions=raw["regions"], brands=raw["brands"],
        industries=raw["industries"], suffixes=raw["company_suffixes"],
        streets=raw["streets"], districts=raw["districts"],
        mobile_prefixes=raw["mobile_prefixes"])
