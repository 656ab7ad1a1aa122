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
    # punctuation differs by script: full-width in Chinese
    "colon": {"zh-CN": "：", "en": ": "},
    "open_paren": {"zh-CN": "（", "en": " ("},
    "close_paren": {"zh-CN": "）", "en": ")"},
    # -- the application journey (journey.py) --
    "skip": {"zh-CN": "跳到正文", "en": "Skip to content"},
    "nav_me": {"zh-CN": "我的数据", "en": "My data"},
    "nav_ops": {"zh-CN": "员工后台（复核队列）", "en": "Staff console (review queue)"},
    "journey": {"zh-CN": "申请步骤", "en": "Application steps"},
    "step_product": {"zh-CN": "选择产品", "en": "Product"},
    "step_consent": {"zh-CN": "授权同意", "en": "Consent"},
    "step_lesson": {"zh-CN": "金融知识课程", "en": "Lesson"},
    "step_decision": {"zh-CN": "审批结果", "en": "Decision"},
    "step_offer": {"zh-CN": "借款要约", "en": "Offer"},
    "step_sign": {"zh-CN": "确认签约", "en": "Sign"},
    "scenario_products": {"zh-CN": "场景信贷产品", "en": "Scenario credit products"},
    "see_product": {"zh-CN": "了解并申请", "en": "Details and apply"},
    "demo_identity": {
        "zh-CN": "演示身份（合成借款人）",
        "en": "Demo identity (synthetic borrower)",
    },
    "demo_identity_note": {
        "zh-CN": "本平台尚无登录系统。您的演示身份是一个合成的借款人编号及其合成信用档案"
        "（取自公开的德国信用数据集），保存在签名 Cookie 中；不涉及任何真实个人信息。",
        "en": "There is no login yet. Your demo identity is a synthetic borrower reference with a"
        " synthetic credit profile (rows of the public German-credit dataset), kept in a signed"
        " cookie; no real personal data is involved.",
    },
    "profile": {"zh-CN": "合成信用档案", "en": "Synthetic credit profile"},
    "profile_good": {"zh-CN": "合成档案：信用良好", "en": "Synthetic profile: good"},
    "profile_grey": {"zh-CN": "合成档案：灰区（需人工复核）", "en": "Synthetic profile: grey zone"},
    "profile_bad": {"zh-CN": "合成档案：风险较高", "en": "Synthetic profile: high risk"},
    "set_profile": {"zh-CN": "使用此档案", "en": "Use this profile"},
    "new_identity": {"zh-CN": "换一个新的演示身份", "en": "Start over with a new identity"},
    "sandbox": {"zh-CN": "监管沙盒试点产品", "en": "regulatory sandbox pilot"},
    "apr_range_note": {
        "zh-CN": "按您的风险等级、期限与还款方式确定；按内部收益率法计算，已含全部费用，不超过 24%。",
        "en": "Depends on your risk grade, term and repayment method; IRR method, all fees"
        " included, never above 24%.",
    },
    "eligibility": {"zh-CN": "申请条件", "en": "Who can apply"},
    "age_range": {"zh-CN": "年龄", "en": "Age"},
    "segments": {"zh-CN": "适用对象", "en": "For"},
    "min_income": {"zh-CN": "最低月收入（元）", "en": "Minimum monthly income (CNY)"},
    "regions": {"zh-CN": "可申请地区", "en": "Regions"},
    "nationwide": {"zh-CN": "全国", "en": "nationwide"},
    "data_used": {"zh-CN": "本产品使用的数据", "en": "Data this product uses"},
    "purpose": {"zh-CN": "用途", "en": "purpose"},
    "sensitive": {"zh-CN": "敏感个人信息", "en": "sensitive personal information"},
    "via_channel": {"zh-CN": "经持牌征信机构", "en": "through the licensed agency"},
    "no_health_data": {
        "zh-CN": "健康与病历信息绝不用于信用评估。",
        "en": "Health and medical data are never used to judge credit.",
    },
    "limit": {"zh-CN": "额度", "en": "Credit limit"},
    "limit_range": {"zh-CN": "额度区间（元）", "en": "Limit range (CNY)"},
    "perks": {"zh-CN": "权益", "en": "Perks"},
    "valid_days": {"zh-CN": "有效天数", "en": "valid days"},
    "lesson_note": {
        "zh-CN": "申请前需完成金融知识课程，时长",
        "en": "Before a decision you complete a short lesson of",
    },
    "minutes": {"zh-CN": "分钟", "en": "minutes"},
    "seconds": {"zh-CN": "秒", "en": "seconds"},
    "apply": {"zh-CN": "提交申请", "en": "Apply"},
    "f_amount": {"zh-CN": "申请金额（元）", "en": "Amount (CNY)"},
    "f_term": {"zh-CN": "期数（月）", "en": "Term (months)"},
    "f_method": {"zh-CN": "还款方式", "en": "Repayment method"},
    "f_age": {"zh-CN": "年龄", "en": "Age"},
    "f_region": {"zh-CN": "所在地区代码（可选）", "en": "Region code (optional)"},
    "f_monthly_income": {"zh-CN": "月收入（元）", "en": "Monthly income (CNY)"},
    "f_monthly_debt": {"zh-CN": "现有月还款额（元）", "en": "Existing monthly debt (CNY)"},
    "f_human_review": {
        "zh-CN": "我不接受纯自动化决策，请由人工审核",
        "en": "I refuse a purely automated decision: let a person decide",
    },
    "f_confirm": {
        "zh-CN": "我已阅读并同意上述借款条款（含年化利率、全部费用与还款计划）",
        "en": "I have read and accept these terms (APR, every fee and the schedule)",
    },
    "f_terms_sha256": {"zh-CN": "条款摘要", "en": "Terms hash"},
    "f_analyst": {"zh-CN": "复核人", "en": "Analyst"},
    "f_note": {
        "zh-CN": "复核意见（拒绝时必填，将告知借款人）",
        "en": "Note (required to decline; the borrower reads it)",
    },
    "f_resolution": {"zh-CN": "复核结论", "en": "Resolution"},
    "demo_apply_note": {
        "zh-CN": "演示：场景数据与征信特征来自合成数据源，并随申请一并标注为合成数据。",
        "en": "Demo: scenario signals and bureau features come from synthetic sources, labelled"
        " as such.",
    },
    "application": {"zh-CN": "申请编号", "en": "Application"},
    "consent_title": {"zh-CN": "个人信息授权", "en": "Your consent to use your data"},
    "consent_intro": {
        "zh-CN": "请逐项阅读并勾选。每项数据仅用于所列用途；任何一项都不会预先勾选。",
        "en": "Read and tick each item. Each source is used only for the stated purpose; nothing"
        " is ticked in advance.",
    },
    "consent_ordinary": {"zh-CN": "一般个人信息", "en": "Personal information"},
    "consent_to": {"zh-CN": "我同意使用", "en": "I agree to the use of"},
    "consent_sensitive": {
        "zh-CN": "敏感个人信息（单独同意）",
        "en": "Sensitive data (separate consent)",
    },
    "sensitive_explain": {
        "zh-CN": "该信息属于敏感个人信息，依法需要您单独同意。它用于核定额度；不同意将无法办理本产品，但不影响您使用其他服务。",
        "en": "This is sensitive personal information: the law requires your separate consent."
        " It is needed to set the limit; without it this product cannot be offered, nothing"
        " else changes.",
    },
    "consent_separately": {"zh-CN": "我单独同意使用", "en": "I separately agree to the use of"},
    "consent_missing": {
        "zh-CN": "以下授权尚未勾选，本产品需要它们才能评估：",
        "en": "These consents are not ticked; the product needs them to assess you:",
    },
    "needs_separate": {"zh-CN": "需单独同意", "en": "needs its own consent"},
    "consent_withdraw": {
        "zh-CN": "您可随时撤回授权，撤回与授权一样简单：",
        "en": "You may withdraw a consent at any time, as easily as you gave it:",
    },
    "my_consents": {"zh-CN": "我的授权", "en": "My consents"},
    "give_consent": {"zh-CN": "确认授权", "en": "Give consent"},
    "no_consents": {"zh-CN": "暂无授权记录。", "en": "No consents yet."},
    "separate": {"zh-CN": "单独同意", "en": "separate"},
    "withdrawn": {"zh-CN": "已撤回", "en": "withdrawn"},
    "withdraw": {"zh-CN": "撤回", "en": "Withdraw"},
    "withdraw_note": {
        "zh-CN": "撤回立即生效：之后需要该数据的审批将被拒绝并说明原因。",
        "en": "Withdrawal takes effect at once: a later decision that needs the data is refused,"
        " naming it.",
    },
    "lesson_rule": {
        "zh-CN": "观看时长由服务器计时，完成课程并通过测验后才能继续。",
        "en": "Watch time is measured by the server; pass the quiz to continue.",
    },
    "lesson_intro": {"zh-CN": "本课程时长", "en": "This lesson takes"},
    "start_lesson": {"zh-CN": "开始学习", "en": "Start the lesson"},
    "no_video": {
        "zh-CN": "（演示环境未附视频，请留在本页直至计时结束。）",
        "en": "(No video in the demo: stay on this page until the time is up.)",
    },
    "remaining": {"zh-CN": "剩余时间", "en": "Time remaining"},
    "server_decides": {
        "zh-CN": "倒计时仅供参考，是否看完以服务器时间为准。",
        "en": "The countdown is for you; the server's clock decides.",
    },
    "quiz": {"zh-CN": "课后测验", "en": "Quiz"},
    "answer_needed": {"zh-CN": "请作答", "en": "please answer"},
    "finish_lesson": {"zh-CN": "提交测验", "en": "Submit the quiz"},
    "lesson_not_passed": {"zh-CN": "课程尚未完成：", "en": "The lesson is not complete:"},
    "lesson_done": {"zh-CN": "课程已完成。", "en": "Lesson completed."},
    "get_decision": {"zh-CN": "提交审批", "en": "Ask for a decision"},
    "next_steps": {"zh-CN": "还需完成", "en": "Still to do"},
    "reasons": {"zh-CN": "原因", "en": "Reasons"},
    "review_note": {"zh-CN": "人工复核意见", "en": "Reviewer's note"},
    "automated_yes": {"zh-CN": "本决定由系统自动作出。", "en": "This decision was automated."},
    "automated_no": {"zh-CN": "本决定由人工复核作出。", "en": "A person made this decision."},
    "see_offer": {"zh-CN": "查看借款要约", "en": "See the offer"},
    "see_loan": {"zh-CN": "查看借款", "en": "See the loan"},
    "why": {"zh-CN": "为什么是这个结果？", "en": "Why this decision?"},
    "why_title": {"zh-CN": "决定说明", "en": "Explanation of the decision"},
    "review_reason": {"zh-CN": "复核理由（可选）", "en": "Reason for review (optional)"},
    "ask_review": {"zh-CN": "申请人工复核", "en": "Ask for a human review"},
    "right_to_review": {
        "zh-CN": "依据《个人信息保护法》第二十四条，您有权要求说明并拒绝仅通过自动化决策作出的决定。",
        "en": "Under PIPL Art. 24 you may demand an explanation and refuse a purely automated"
        " decision.",
    },
    "in_review_note": {
        "zh-CN": "已转人工复核，结果将在此显示。",
        "en": "A person is reviewing your application; the result will show here.",
    },
    "outcome": {"zh-CN": "结果", "en": "Outcome"},
    "credit_score": {"zh-CN": "信用评分", "en": "Credit score"},
    "model": {"zh-CN": "模型", "en": "Model"},
    "score": {"zh-CN": "评分", "en": "Score"},
    "grade": {"zh-CN": "风险等级", "en": "Risk grade"},
    "pd": {"zh-CN": "违约概率", "en": "Probability of default"},
    "score_factors": {"zh-CN": "主要影响因素", "en": "Main factors"},
    "steps_taken": {"zh-CN": "审批步骤", "en": "Steps taken"},
    "step": {"zh-CN": "步骤", "en": "Step"},
    "time": {"zh-CN": "时间", "en": "Time"},
    "back_to_application": {"zh-CN": "返回申请", "en": "Back to the application"},
    "offer_title": {"zh-CN": "借款要约", "en": "Your offer"},
    "offer_amount": {"zh-CN": "借款金额（元）", "en": "Amount (CNY)"},
    "expires": {"zh-CN": "要约有效期至", "en": "Valid until"},
    "fees_all": {"zh-CN": "全部费用", "en": "Every fee"},
    "stages": {"zh-CN": "分阶段放款", "en": "Staged release"},
    "stages_note": {
        "zh-CN": "各阶段在联盟链上经核验后放款，只对已放款部分计息。",
        "en": "Each stage is released once attested on the consortium chain; interest only on"
        " what is drawn.",
    },
    "terms_hash": {
        "zh-CN": "条款摘要（SHA-256，签约即冻结）",
        "en": "Terms hash (SHA-256, frozen on signing)",
    },
    "sign": {"zh-CN": "确认签约", "en": "Sign"},
    "offer_status": {"zh-CN": "要约状态", "en": "Offer status"},
    # -- fund flow (flow.py) --
    "fund_flow": {"zh-CN": "资金流向", "en": "Fund flow"},
    "fund_flow_intro": {
        "zh-CN": "每一笔资金流转都记录在联盟链上。下方每一条都由您的浏览器独立验证：记录内容、哈希链接、默克尔包含证明与检查点签名，无需信任本平台。",
        "en": "Every movement of your money is on the consortium log. Your browser checks each one"
        " itself — the entry, its link to the previous one, its Merkle inclusion proof and the"
        " checkpoint's signature — without trusting this platform.",
    },
    "no_movements": {
        "zh-CN": "该借款尚无链上资金流转记录。",
        "en": "No fund movements of this loan are on the log yet.",
    },
    "movements": {"zh-CN": "资金流转", "en": "Movements"},
    "from": {"zh-CN": "从", "en": "From"},
    "to": {"zh-CN": "到", "en": "To"},
    "amount": {"zh-CN": "金额（元）", "en": "Amount (CNY)"},
    "date": {"zh-CN": "日期", "en": "Date"},
    "in": {"zh-CN": "流入", "en": "in"},
    "out": {"zh-CN": "流出", "en": "out"},
    "log_index": {"zh-CN": "链上序号", "en": "Log index"},
    "proof_check": {"zh-CN": "浏览器验证", "en": "Checked in your browser"},
    "verifying": {"zh-CN": "验证中…", "en": "checking…"},
    "proof_ok": {"zh-CN": "已验证", "en": "verified"},
    "proof_failed": {"zh-CN": "验证失败", "en": "FAILED"},
    "verify_summary": {
        "zh-CN": "已验证 {ok} 笔，失败 {bad} 笔",
        "en": "{ok} verified, {bad} failed",
    },
    "checkpoint": {"zh-CN": "检查点", "en": "Checkpoint"},
    "tree_size": {"zh-CN": "日志条目数", "en": "Log size"},
    "quorum_cosigned": {"zh-CN": "见证方联署", "en": "Witness cosignatures"},
    "quorum_summary": {
        "zh-CN": "{n} 个见证方中 {k} 个签名有效（需 {t} 个）",
        "en": "{k} of {n} witnesses cosigned validly ({t} needed)",
    },
    "witness_keys": {"zh-CN": "见证方公钥", "en": "Witness keys"},
    "operator_signature": {"zh-CN": "运营方签名", "en": "Operator signature"},
    "sig_ok": {"zh-CN": "签名有效", "en": "valid"},
    "sig_unsupported": {
        "zh-CN": "此浏览器不支持 Ed25519，签名未在浏览器中验证",
        "en": "this browser lacks Ed25519: signature not checked here",
    },
    "operator_key": {
        "zh-CN": "运营方公钥（请与联盟公布的公钥核对）",
        "en": "Operator key (compare it with the one the consortium publishes)",
    },
    "offline_verify": {
        "zh-CN": "也可离线验证：xindai chain export-bundle 与 xindai chain verify --bundle。",
        "en": "Or verify offline: xindai chain export-bundle, then xindai chain verify --bundle.",
    },
    "noscript_verify": {
        "zh-CN": "验证需要启用 JavaScript；也可使用离线验证工具。",
        "en": "Checking needs JavaScript; the offline verifier works too.",
    },
    "back_to_loan": {"zh-CN": "返回借款", "en": "Back to the loan"},
    "see_fund_flow": {
        "zh-CN": "查看资金流向（链上可验证）",
        "en": "Where the money went (verifiable)",
    },
    # -- staff console (ops.py) --
    "ops_title": {"zh-CN": "人工复核队列", "en": "Human review queue"},
    "ops_banner": {
        "zh-CN": "员工后台 · 演示环境无员工登录，正式部署须置于身份认证之后",
        "en": "Staff console · demo without staff login; a deployment must put it behind authentication",
    },
    "open_reviews": {"zh-CN": "待复核", "en": "Open reviews"},
    "queue_empty": {"zh-CN": "队列为空。", "en": "The queue is empty."},
    "kind_referral": {"zh-CN": "系统转人工", "en": "referral"},
    "kind_borrower": {"zh-CN": "借款人申请复核", "en": "borrower's request"},
    "subject": {"zh-CN": "申请人", "en": "Applicant"},
    "opened": {"zh-CN": "提交时间", "en": "Opened"},
    "automated_outcome": {"zh-CN": "自动化决策", "en": "Automated decision"},
    "approve": {"zh-CN": "批准", "en": "Approve"},
    "decline": {"zh-CN": "拒绝", "en": "Decline"},
    "resolved_reviews": {"zh-CN": "最近处理", "en": "Recently resolved"},
    "resolution": {"zh-CN": "结论", "en": "Resolution"},
    # -- errors --
    "error_400": {"zh-CN": "无法读取表单", "en": "The form could not be read"},
    "error_403": {"zh-CN": "请求被拒绝（安全校验失败）", "en": "Refused (security check failed)"},
    "error_404": {"zh-CN": "未找到", "en": "Not found"},
    "error_409": {"zh-CN": "当前状态下无法进行此操作", "en": "Not possible in the current state"},
}

# Enumerations shown to borrowers: servicing's values → words.
STATUS = {
    "contracted": {"zh-CN": "已签约待放款", "en": "Contracted"},
    "active": {"zh-CN": "还款中", "en": "Active"},
    "closed": {"zh-CN": "已结清", "en": "Closed"},
    "written-off": {"zh-CN": "已核销", "en": "Written off"},
    # applications (origination)
    "submitted": {"zh-CN": "已提交", "en": "Submitted"},
    "refused": {"zh-CN": "暂无法评估", "en": "Cannot be assessed yet"},
    "declined": {"zh-CN": "未获批准", "en": "Declined"},
    "referred": {"zh-CN": "转人工审核", "en": "Referred to a person"},
    "in-review": {"zh-CN": "人工复核中", "en": "In human review"},
    "offered": {"zh-CN": "已批准，待签约", "en": "Approved: offer open"},
    "signed": {"zh-CN": "已签约", "en": "Signed"},
    "disbursed": {"zh-CN": "已放款", "en": "Paid out"},
    "line-open": {"zh-CN": "额度已开通（分阶段放款）", "en": "Line open (staged release)"},
    "expired": {"zh-CN": "要约已过期", "en": "Offer expired"},
}
OUTCOMES = {
    "approve": {"zh-CN": "批准", "en": "approved"},
    "decline": {"zh-CN": "拒绝", "en": "declined"},
    "refer": {"zh-CN": "转人工", "en": "referred"},
    "refused": {"zh-CN": "无法评估", "en": "refused"},
    "pass": {"zh-CN": "通过", "en": "passed"},
}
PIPELINE_STEPS = {
    "application": {"zh-CN": "提交申请", "en": "application"},
    "signals": {"zh-CN": "获取场景数据", "en": "scenario signals"},
    "consent": {"zh-CN": "授权检查", "en": "consent"},
    "lesson-start": {"zh-CN": "开始课程", "en": "lesson started"},
    "lesson-finish": {"zh-CN": "完成课程", "en": "lesson finished"},
    "education": {"zh-CN": "教育门槛", "en": "education"},
    "anti-fraud": {"zh-CN": "反欺诈", "en": "anti-fraud"},
    "credit-score": {"zh-CN": "信用评分", "en": "credit score"},
    "policy": {"zh-CN": "政策规则", "en": "policy"},
    "decision": {"zh-CN": "决定", "en": "decision"},
    "offer": {"zh-CN": "要约", "en": "offer"},
    "review-opened": {"zh-CN": "转人工复核", "en": "review opened"},
    "review": {"zh-CN": "人工复核", "en": "review"},
    "explanation": {"zh-CN": "查看说明", "en": "explanation"},
    "acceptance": {"zh-CN": "签约", "en": "acceptance"},
    "contract": {"zh-CN": "合同生效", "en": "contract"},
    "disbursement": {"zh-CN": "放款", "en": "disbursement"},
}
PURPOSES = {
    "credit-limit": {"zh-CN": "核定信用额度", "en": "setting the credit limit"},
    "credit-scoring": {"zh-CN": "信用评分", "en": "credit scoring"},
    "credit-assessment": {"zh-CN": "信用评估", "en": "credit assessment"},
}
SEGMENTS = {
    "consumer": {"zh-CN": "个人消费者", "en": "consumers"},
    "business": {"zh-CN": "小微商户", "en": "small businesses"},
    "farmer": {"zh-CN": "农户", "en": "farmers"},
}
NODES = {
    "platform": {"zh-CN": "平台", "en": "Platform"},
    "escrow": {"zh-CN": "监管账户", "en": "Escrow"},
    "borrower": {"zh-CN": "借款人", "en": "Borrower"},
    "repayment": {"zh-CN": "还款", "en": "Repayment"},
    "supplier": {"zh-CN": "供应商", "en": "Supplier"},
    "merchant": {"zh-CN": "商户", "en": "Merchant"},
    "farmer": {"zh-CN": "农户", "en": "Farmer"},
    "buyer": {"zh-CN": "收购方", "en": "Buyer"},
    "logistics": {"zh-CN": "物流", "en": "Logistics"},
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
