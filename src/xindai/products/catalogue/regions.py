"""Permitted regions: GB/T 2260 administrative-division codes, and the names staff may write instead.

A product's ``regions`` list holds 6-digit GB/T 2260 codes (``"110000"`` Beijing, ``"440300"``
Shenzhen) or one of the names below. A province code (``XX0000``) covers every code under it, a
prefecture code (``XXYY00``) every county under it, a county code itself only. The first two digits
must be one of the 34 provincial-level codes; county codes are not enumerated (the national table
changes yearly), so ``330106`` is accepted under Zhejiang.

The names include the PBoC fintech-innovation pilot cities (金融科技创新监管试点, DOMAIN_RULES §7):
Beijing, Shanghai, Chongqing, Shenzhen, Xiong'an, Hangzhou, Suzhou, Chengdu, Guangzhou.
"""

from __future__ import annotations

import re

from xindai.kernel.errors import ValidationError

PROVINCES: dict[str, tuple[str, str]] = {
    "11": ("北京市", "Beijing"), "12": ("天津市", "Tianjin"), "13": ("河北省", "Hebei"),
    "14": ("山西省", "Shanxi"), "15": ("内蒙古自治区", "Inner Mongolia"),
    "21": ("辽宁省", "Liaoning"), "22": ("吉林省", "Jilin"), "23": ("黑龙江省", "Heilongjiang"),
    "31": ("上海市", "Shanghai"), "32": ("江苏省", "Jiangsu"), "33": ("浙江省", "Zhejiang"),
    "34": ("安徽省", "Anhui"), "35": ("福建省", "Fujian"), "36": ("江西省", "Jiangxi"),
    "37": ("山东省", "Shandong"), "41": ("河南省", "Henan"), "42": ("湖北省", "Hubei"),
    "43": ("湖南省", "Hunan"), "44": ("广东省", "Guangdong"),
    "45": ("广西壮族自治区", "Guangxi"), "46": ("海南省", "Hainan"), "50": ("重庆市", "Chongqing"),
    "51": ("四川省", "Sichuan"), "52": ("贵州省", "Guizhou"), "53": ("云南省", "Yunnan"),
    "54": ("西藏自治区", "Tibet"), "61": ("陕西省", "Shaanxi"), "62": ("甘肃省", "Gansu"),
    "63": ("青海省", "Qinghai"), "64": ("宁夏回族自治区", "Ningxia"),
    "65": ("新疆维吾尔自治区", "Xinjiang"), "71": ("台湾省", "Taiwan"),
    "81": ("香港特别行政区", "Hong Kong"), "82": ("澳门特别行政区", "Macao"),
}  # fmt: skip

#: prefecture-level cities staff name most often (the sandbox pilot cities among them)
CITIES: dict[str, tuple[str, str]] = {
    "440300": ("深圳市", "Shenzhen"), "440100": ("广州市", "Guangzhou"),
    "330100": ("杭州市", "Hangzhou"), "320500": ("苏州市", "Suzhou"),
    "510100": ("成都市", "Chengdu"), "133100": ("雄安新区", "Xiong'an"),
    "320100": ("南京市", "Nanjing"), "420100": ("武汉市", "Wuhan"), "610100": ("西安市", "Xi'an"),
}  # fmt: skip

_NAMES: dict[str, str] = {}
for _prefix, (_zh, _en) in PROVINCES.items():
    for _name in (_zh, _en, _zh.rstrip("省市")):
        _NAMES[_name.casefold()] = _prefix + "0000"
for _code, (_zh, _en) in CITIES.items():
    for _name in (_zh, _en, _zh.rstrip("市")):
        _NAMES[_name.casefold()] = _code

_CODE = re.compile(r"[0-9]{6}")


def normalise_region(value: object, field: str = "region") -> str:
    """A GB/T 2260 code for ``value`` (a code or a known name); ``ValidationError`` otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, f"{value!r} is not a region code or name")
    text = value.strip()
    if _CODE.fullmatch(text):
        if text[:2] not in PROVINCES:
            raise ValidationError(field, f"{text} is not a GB/T 2260 code (province {text[:2]}?)")
        return text
    code = _NAMES.get(text.casefold())
    if code is None:
        raise ValidationError(
            field, f"unknown region {text!r}: use a 6-digit GB/T 2260 code or a known name"
        )
    return code


def region_name(code: str) -> tuple[str, str]:
    """(zh, en) name of a code when known; else the code itself twice."""
    if code in CITIES:
        return CITIES[code]
    if code.endswith("0000") and code[:2] in PROVINCES:
        return PROVINCES[code[:2]]
    return code, code


def covers(allowed: str, region: str) -> bool:
    """Whether the permitted ``allowed`` code covers the applicant's ``region`` code."""
    prefix = allowed
    while prefix.endswith("00") and len(prefix) > 2:
        prefix = prefix[:-2]
    return region.startswith(prefix)
