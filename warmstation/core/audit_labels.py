"""Readable names for audit actions ("redemption.redeem" → 核销码 · 核销 / Redemption code ·
redeem), so the audit log reads as words in both languages; the code stays beside it for
searching. An action not listed shows its code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

NOUNS = {
    "access": _("访问"), "appeal": _("诉求"), "appeal_category": _("诉求类别"),
    "appeal_routing": _("派单规则"), "appeal_settings": _("诉求办理设置"),
    "area_contact": _("区域联系方式"), "audit": _("审计日志"), "auth": _("登录"),
    "import": _("数据导入"),
    "loan": _("借用"), "merchant": _("商户"), "offer": _("优惠"), "points": _("积分"),
    "policy_answer": _("政策问答"), "privacy": _("个人信息"), "redemption": _("核销码"),
    "role": _("角色"), "service_record": _("服务记录"), "station": _("驿站"), "stock": _("库存"),
    "work_calendar": _("工作日历"), "worker": _("小哥"),
}
VERBS = {
    "create": _("新建"), "update": _("修改"), "delete": _("删除"), "set": _("设置"),
    "login": _("登录"), "logout": _("退出"), "mfa": _("动态码验证"), "sms_code": _("发送验证码"),
    "token_issue": _("签发令牌"), "token_revoke": _("撤销令牌"), "denied": _("拒绝访问"),
    "search": _("查询"), "return": _("归还"), "staff_add": _("添加店员"), "award": _("发放"),
    "hold_release": _("释放冻结"), "reverse": _("冲正"), "rule_create": _("新建规则"),
    "rule_update": _("修改规则"), "close": _("注销账户"), "export": _("导出数据"),
    "reveal": _("查看完整号码"), "cancel": _("取消"), "issue": _("出示"), "redeem": _("核销"),
    "grant": _("授予"), "revoke": _("撤销"), "amenities": _("设施"), "check_in": _("签到"),
    "exception": _("特殊日期"), "exception_delete": _("删除特殊日期"), "hours": _("营业时间"),
    "photo_add": _("添加照片"), "photo_delete": _("删除照片"), "status": _("开放状态"),
    "change": _("变动"), "register": _("登记"), "meeting": _("座谈会"), "remind": _("催办"),
    "dispatch": _("派单"), "transfer": _("转派"), "accept": _("签收"), "start": _("开始办理"),
    "answer": _("答复"), "rate": _("评价"), "followup": _("回访"), "reopen": _("重新办理"),
    "merge": _("合并"), "urgent": _("标记紧急"), "note": _("备注"),
    "validate": _("上传检查"), "apply": _("确认导入"), "discard": _("放弃导入"), "enrol": _("登记入册"),
}


def action_label(action: str) -> str:
    noun, _sep, verb = action.partition(".")
    if noun in NOUNS and verb in VERBS:
        return f"{NOUNS[noun]} · {VERBS[verb]}"
    return action
