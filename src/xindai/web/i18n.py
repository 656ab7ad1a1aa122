"""Interface texts in zh-CN (the default) and English.

Invariant: every key exists in both languages (a test checks it), so a page never shows a raw key.
"""

from __future__ import annotations

LANGS = ("zh-CN", "en")
DEFAULT_LANG = "zh-CN"

TEXTS: dict[str, dict[str, str]] = {
    "brand": {"zh-CN": "信贷", "en": "xindai"},
    "tagline": {
        "zh-CN": "透明定价、按年化利率披露的线上信贷",
        "en": "Online credit with transparent pricing and APR disclosure",
    },
    "nav_home": {"zh-CN": "首页", "en": "Home"},
    "nav_quote": {"zh-CN": "借款试算", "en": "Loan calculator"},
    "nav_loan": {"zh-CN": "查询借款", "en": "Find my loan"},
    "nav_api": {"zh-CN": "开发者接口", "en": "API docs"},
    "switch_lang": {"zh-CN": "English", "en": "中文"},
    "products": {"zh-CN": "产品", "en": "Products"},
    "rate_range": {"zh-CN": "年利率区间", "en": "Annual rate range"},
    "terms": {"zh-CN": "期限（月）", "en": "Terms (months)"},
    "amount_range": {"zh-CN": "额度区间（元）", "en": "Amount range (CNY)"},
    "cap_note": {
        "zh-CN": "所有产品的综合融资成本（年化利率，按内部收益率法计算）不超过 24%。",
        "en": "Every product's all-in cost (APR by the IRR method) stays within 24%.",
    },
    "principal": {"zh-CN": "借款金额（元）", "en": "Amount (CNY)"},
    "term": {"zh-CN": "期数（月）", "en": "Term (months)"},
    "method": {"zh-CN": "还款方式", "en": "Repayment method"},
    "annual_rate": {"zh-CN": "合同年利率", "en": "Contract annual rate"},
    "monthly_fee_rate": {"zh-CN": "月服务费率", "en": "Monthly fee rate"},
    "start_date": {"zh-CN": "放款日期", "en": "Disbursement date"},
    "calculate": {"zh-CN": "计算", "en": "Calculate"},
    "apr_simple": {"zh-CN": "年化利率（单利）", "en": "APR (simple)"},
    "apr_compound": {"zh-CN": "年化利率（复利）", "en": "APR (compound)"},
    "apr_note": {
        "zh-CN": "年化利率按内部收益率（IRR）法，依据您实际的现金流计算，已包含全部费用。",
        "en": "APR by the IRR method from your actual cash flows, all fees included.",
    },
    "total_interest": {"zh-CN": "利息合计", "en": "Total interest"},
    "total_fees": {"zh-CN": "费用合计", "en": "Total fees"},
    "total_cost": {"zh-CN": "借款总成本", "en": "Total cost of credit"},
    "total_repayment": {"zh-CN": "还款总额", "en": "Total to repay"},
    "within_cap": {"zh-CN": "符合 24% 利率上限", "en": "Within the 24% cap"},
    "over_cap": {
        "zh-CN": "超过 24% 利率上限，不能放款",
        "en": "Above the 24% cap: cannot be offered",
    },
    "schedule": {"zh-CN": "还款计划", "en": "Repayment schedule"},
    "period": {"zh-CN": "期次", "en": "Period"},
    "due_date": {"zh-CN": "还款日", "en": "Due date"},
    "principal_col": {"zh-CN": "本金", "en": "Principal"},
    "interest": {"zh-CN": "利息", "en": "Interest"},
    "fee": {"zh-CN": "费用", "en": "Fee"},
    "total": {"zh-CN": "应还", "en": "Total"},
    "paid": {"zh-CN": "已还", "en": "Paid"},
    "settled": {"zh-CN": "已结清", "en": "Settled"},
    "balance_after": {"zh-CN": "剩余本金", "en": "Balance after"},
    "error": {"zh-CN": "输入有误", "en": "Please check your input"},
    "loan_ref": {"zh-CN": "借款编号", "en": "Loan number"},
    "find": {"zh-CN": "查询", "en": "Find"},
    "not_found": {"zh-CN": "未找到该借款", "en": "No such loan"},
    "status": {"zh-CN": "状态", "en": "Status"},
    "dpd": {"zh-CN": "逾期天数", "en": "Days past due"},
    "due_now": {"zh-CN": "当前应还", "en": "Due now"},
    "balances": {"zh-CN": "余额", "en": "Balances"},
    "line_amount": {"zh-CN": "合同金额", "en": "Contract amount"},
    "disbursed": {"zh-CN": "已放款", "en": "Disbursed"},
    "yes": {"zh-CN": "是", "en": "yes"},
    "no": {"zh-CN": "否", "en": "no"},
    "synthetic_note": {
        "zh-CN": "演示环境：所有借款人数据均为合成数据。",
        "en": "Demo environment: all borrower data is synthetic.",
    },
}

# Enumerations shown to borrowers: servicing's values → words.
STATUS = {
    "contracted": {"zh-CN": "已签约待放款", "en": "Contracted"},
    "active": {"zh-CN": "还款中", "en": "Active"},
    "closed": {"zh-CN": "已结清", "en": "Closed"},
    "written-off": {"zh-CN": "已核销", "en": "Written off"},
}
METHODS = {
    "equal-installment": {"zh-CN": "等额本息", "en": "Equal instalments"},
    "equal-principal": {"zh-CN": "等额本金", "en": "Equal principal"},
    "interest-only": {"zh-CN": "先息后本", "en": "Interest only, principal at maturity"},
    "bullet": {"zh-CN": "到期一次还本付息", "en": "Bullet"},
    "flat-fee": {"zh-CN": "分期手续费（先用后付）", "en": "Flat fee (BNPL)"},
}
BALANCES = {
    "principal_receivable": {"zh-CN": "未还本金", "en": "Outstanding principal"},
    "interest_receivable": {"zh-CN": "应收利息", "en": "Interest receivable"},
    "fee_receivable": {"zh-CN": "应收费用", "en": "Fees receivable"},
    "penalty_receivable": {"zh-CN": "罚息", "en": "Penalty interest"},
    "suspense": {"zh-CN": "待分配款项", "en": "Unapplied payments"},
}


def pick_lang(requested: str | None) -> str:
    """The page language: ``en`` on request, zh-CN otherwise."""
    return "en" if requested == "en" else DEFAULT_LANG


def label(table: dict[str, dict[str, str]], key: str, lang: str) -> str:
    """A word from one of the enumeration tables, or the key itself when it has none."""
    entry = table.get(key)
    return entry[lang] if entry else key
