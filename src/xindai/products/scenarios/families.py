"""The signal families and every signal's schema (the one registry product files are checked against).

Families: ``general`` (income and debt), ``travel``, ``medical``, ``repayment`` (the platform's own
repayment history), ``sme`` (POS and food-delivery turnover), ``carbon``, ``ecommerce`` (BNPL
behaviour features) and ``supply_chain`` (consortium-chain attestations).

Data sources named here are the ones a product must declare (and collect consent for) before its
expressions may read a signal. Medical *clinical* data is in the schema only to be marked
``prohibited``: it may arrive in a hospital's feed but is never a credit feature (征信业管理条例
Art. 14). The treatment plan *amount* is billing data, not health data, and is ordinary.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from xindai.products.scenarios.schema import Category, SignalKind, SignalSpec

_ORD, _SEN, _PRO = Category.ORDINARY, Category.SENSITIVE, Category.PROHIBITED
_ZERO = Decimal(0)
_ONE = Decimal(1)


def _n(
    name: str,
    family: str,
    unit: str,
    cat: Category,
    sources: str,
    zh: str,
    en: str,
    desc: str = "",
    lo: Decimal | None = _ZERO,
    hi: Decimal | None = None,
    kind: SignalKind = "number",
) -> SignalSpec:
    return SignalSpec(name, family, kind, unit, cat, tuple(sources.split()), zh, en, desc, lo, hi)


SPECS: tuple[SignalSpec, ...] = (
    # general ---------------------------------------------------------------------------------
    _n("monthly_income_yuan", "general", "CNY/month", _SEN, "income-proof",
       "月收入", "Monthly income", "verified take-home income (payroll or tax record)"),
    _n("existing_monthly_debt_yuan", "general", "CNY/month", _SEN, "credit-bureau",
       "现有月还款额", "Existing monthly debt service", "from the licensed credit report"),
    # travel ----------------------------------------------------------------------------------
    _n("travel_mileage_km", "travel", "km", _ORD, "travel-platform",
       "累计出行里程", "Accumulated travel mileage", "flights and rail booked on the platform"),
    _n("hotel_review_count", "travel", "reviews", _ORD, "travel-platform",
       "酒店点评数", "Hotel reviews written"),
    _n("review_quality", "travel", "score 0–1", _ORD, "travel-platform",
       "点评质量", "Review quality", "helpfulness-weighted quality of hotel reviews", _ZERO, _ONE),
    _n("guide_count", "travel", "guides", _ORD, "travel-platform",
       "游记攻略数", "Travel guides published"),
    _n("guide_quality", "travel", "score 0–1", _ORD, "travel-platform",
       "攻略质量", "Guide quality", "editor and reader rating of published guides", _ZERO, _ONE),
    # medical ---------------------------------------------------------------------------------
    _n("treatment_plan_amount_yuan", "medical", "CNY", _ORD, "hospital-billing",
       "治疗方案金额", "Treatment plan amount", "the billed estimate of the plan, not its content"),
    _n("diagnosis_code", "medical", "ICD-10 code", _PRO, "hospital-emr",
       "诊断编码", "Diagnosis code", "health data — prohibited as a credit feature", None, None,
       "text"),
    _n("treatment_department", "medical", "department", _PRO, "hospital-emr",
       "就诊科室", "Treating department", "health data — prohibited as a credit feature", None,
       None, "text"),
    _n("medical_history_conditions", "medical", "conditions", _PRO, "hospital-emr",
       "既往病史条目数", "Medical history entries", "health data — prohibited", None, None),
    # repayment (the platform's own books) ----------------------------------------------------
    _n("ontime_instalments", "repayment", "instalments", _ORD, "platform-repayment-history",
       "按时还款期数", "Instalments repaid on time"),
    _n("late_instalments_24m", "repayment", "instalments", _ORD, "platform-repayment-history",
       "近24月逾期期数", "Late instalments, last 24 months"),
    _n("max_dpd_24m", "repayment", "days", _ORD, "platform-repayment-history",
       "近24月最长逾期天数", "Longest days past due, last 24 months"),
    _n("current_dpd", "repayment", "days", _ORD, "platform-repayment-history",
       "当前逾期天数", "Days past due now"),
    _n("ontime_months_consecutive", "repayment", "months", _ORD, "platform-repayment-history",
       "连续按时还款月数", "Consecutive months repaid on time",
       "months since the last late instalment (or since the first due date)"),
    _n("internal_overdue_records", "repayment", "records", _ORD, "platform-repayment-history",
       "平台内部逾期记录数", "Overdue records in the platform's history", "not bureau records"),
    # SME turnover ----------------------------------------------------------------------------
    _n("pos_monthly_sales_yuan", "sme", "CNY/month", _ORD, "pos-acquirer",
       "月均POS流水", "Average monthly POS sales", "trailing 12 months (or history) ÷ months"),
    _n("delivery_monthly_orders", "sme", "orders/month", _ORD, "food-delivery-platform",
       "月均外卖订单", "Average monthly delivery orders", "trailing 12 months (or history)"),
    _n("monthly_turnover_yuan", "sme", "CNY/month", _ORD, "pos-acquirer food-delivery-platform",
       "月均营业额", "Average monthly turnover", "POS + delivery sales, trailing 12 months"),
    _n("turnover_4w_yuan", "sme", "CNY", _ORD, "pos-acquirer food-delivery-platform",
       "近4周营业额", "Turnover, trailing 4 weeks"),
    _n("turnover_4w_norm_yuan", "sme", "CNY", _ORD, "pos-acquirer food-delivery-platform",
       "4周营业额常态值", "Normal 4-week turnover", "trailing-12-month daily average × 28"),
    _n("season_index", "sme", "ratio", _ORD, "pos-acquirer food-delivery-platform",
       "季节指数", "Seasonal index", "trailing 4-week turnover ÷ its normal value (1 = normal)"),
    _n("history_days", "sme", "days", _ORD, "pos-acquirer",
       "经营数据天数", "Days of turnover history"),
    # carbon ----------------------------------------------------------------------------------
    _n("carbon_tonnes_verified", "carbon", "t CO₂", _ORD, "carbon-registry",
       "累计核证减排量", "Verified CO₂ saved, cumulative"),
    _n("carbon_tonnes_12m", "carbon", "t CO₂", _ORD, "carbon-registry",
       "近12月核证减排量", "Verified CO₂ saved, last 12 months"),
    _n("nev_months_owned", "carbon", "months", _ORD, "carbon-registry",
       "新能源车持有月数", "Months owning the new-energy vehicle"),
    # e-commerce (BNPL scoring features) ------------------------------------------------------
    _n("ecom_months_active", "ecommerce", "months", _ORD, "ecommerce-platform",
       "活跃月数", "Months active"),
    _n("ecom_orders_12m", "ecommerce", "orders", _ORD, "ecommerce-platform",
       "近12月订单数", "Orders, last 12 months"),
    _n("ecom_gmv_12m_yuan", "ecommerce", "CNY", _ORD, "ecommerce-platform",
       "近12月消费额", "Spend, last 12 months"),
    _n("ecom_return_rate", "ecommerce", "ratio", _ORD, "ecommerce-platform",
       "退货率", "Return rate", "", _ZERO, _ONE),
    _n("ecom_price_compare_rate", "ecommerce", "ratio", _ORD, "ecommerce-platform",
       "比价习惯", "Price-comparison rate", "share of orders preceded by a comparison", _ZERO,
       _ONE),
    _n("ecom_cs_tone_score", "ecommerce", "score −1…1", _ORD, "ecommerce-platform",
       "客服沟通语气", "Customer-service tone", "sentiment of chats, −1 hostile … 1 friendly",
       Decimal(-1), _ONE),
    _n("ecom_address_changes_90d", "ecommerce", "changes", _ORD, "ecommerce-platform",
       "近90天改地址次数", "Delivery-address changes, 90 days"),
    # supply chain ----------------------------------------------------------------------------
    _n("planted_mu", "supply_chain", "mu", _ORD, "consortium-chain",
       "种植面积", "Area planted", "attested at sowing"),
    _n("offtake_contract_yuan", "supply_chain", "CNY", _ORD, "consortium-chain",
       "订单收购合同金额", "Offtake contract value", "buyer's purchase contract on the chain"),
    _n("coop_member_years", "supply_chain", "years", _ORD, "consortium-chain",
       "合作社社龄", "Years in the co-operative"),
)  # fmt: skip

SIGNALS: dict[str, SignalSpec] = {}
for _spec in SPECS:
    if _spec.name in SIGNALS:  # pragma: no cover - guarded by a test
        raise RuntimeError(f"duplicate signal {_spec.name}")
    SIGNALS[_spec.name] = _spec

FAMILIES: dict[str, tuple[SignalSpec, ...]] = {}
for _spec in SPECS:
    FAMILIES[_spec.family] = (*FAMILIES.get(_spec.family, ()), _spec)

_RANK = (Category.ORDINARY, Category.SENSITIVE, Category.PROHIBITED)
#: every data source a signal names → the most restrictive category among its signals
SOURCES: dict[str, Category] = {}
for _spec in SPECS:
    for _src in _spec.sources:
        _old = SOURCES.get(_src, Category.ORDINARY)
        SOURCES[_src] = max(_old, _spec.category, key=_RANK.index)


def credit_view(values: Mapping[str, object]) -> dict[str, object]:
    """A fetched snapshot without its prohibited signals (what may be stored or scored)."""
    return {k: v for k, v in values.items() if not (k in SIGNALS and SIGNALS[k].prohibited)}
