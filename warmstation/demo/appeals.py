"""Demo needs: categories and limits, routing rules, policy Q&A, and ~60 cases in every state,
among them the needs the express brands raised at the district's 座谈会 (freight vehicles barred
at delivery hours, nowhere to site a last-mile depot). Idempotent: a second run adds nothing."""

from __future__ import annotations

import random
from datetime import date

from django.db import transaction

from warmstation.accounts.models import Brand, Role, User
from warmstation.accounts.services import role_grant
from warmstation.appeals import policy, services
from warmstation.appeals.models import (
    Appeal,
    Category,
    Department,
    PolicyAnswer,
    RoutingRule,
)
from warmstation.appeals.rates import rollup_rebuild
from warmstation.areas.models import Area
from warmstation.demo.data import DEPARTMENTS

# code, name_zh, name_en, answer office-hours, resolve working days, policy?, default department
CATEGORIES = [
    ("freight_access", "货运车辆通行", "Freight-vehicle access", 16, 15, False, "yzj"),
    ("last_mile_site", "末端网点选址", "Last-mile site", 16, 15, False, "yzj"),
    ("meals", "吃饭难", "Meals", 8, 5, False, "ggb"),
    ("housing", "住宿难", "Housing", 16, 10, False, "zjw"),
    ("employment", "就业服务", "Employment", 8, 5, True, "rsj"),
    ("wage_arrears", "欠薪", "Wage arrears", 8, 10, False, "rsj"),
    ("legal", "法律咨询", "Legal questions", 8, 5, True, "rsj"),
    ("social_insurance", "社会保险", "Social insurance", 8, 5, True, "rsj"),
    ("traffic_parking", "交通与停车", "Traffic and parking", 8, 5, False, "gaj"),
    ("station_facilities", "驿站设施", "Station facilities", 8, 5, False, "zgh"),
    ("other", "其他", "Other", 16, 7, False, "ggb"),
]
EXTRA_DEPARTMENTS = [
    ("gc-office", "拱辰街道办事处", "Gongchen Street Office", "street_office", "110111011000"),
    ("xl-office", "西潞街道办事处", "Xilu Street Office", "street_office", "110111012000"),
]
# Street-level rules: parking and station problems go to the street's own office.
STREET_RULES = [("traffic_parking", "110111011000", "gc-cgzx"),
                ("station_facilities", "110111011000", "gc-office"),
                ("station_facilities", "110111012000", "xl-office")]

POLICY = [
    ("employment", "快递小哥可以参加哪些免费的职业技能培训？", "培训 技能 补贴",
     "在房山区就业的劳动者可到区人力社保局或街乡社保所报名参加政府补贴的职业技能培训，"
     "取得证书后可按规定申领培训补贴。"),
    ("employment", "失业了到哪里办理失业登记？", "失业 登记",
     "可通过北京市人力资源和社会保障局网站或到街乡社保所办理失业登记，登记后可享受职业介绍、"
     "职业指导等公共就业服务。"),
    ("employment", "灵活就业人员怎么办理就业登记？", "灵活就业 登记",
     "外卖、快递等灵活就业人员可在街乡社保所办理灵活就业登记，作为享受社保补贴等政策的依据。"),
    ("employment", "平台不派单、被限制接单怎么办？", "派单 封号 限制",
     "可先通过平台申诉渠道反映；平台规则涉及劳动报酬、工作时间等切身利益的，可向区人力社保局"
     "或区总工会反映，也可拨打12345。"),
    ("employment", "找工作可以去哪里看招聘信息？", "招聘 岗位",
     "区人力社保局和各街乡定期举办招聘会，岗位信息在北京公共招聘网发布。"),
    ("employment", "想创业开小店有没有扶持政策？", "创业 贷款 担保",
     "符合条件的人员可申请创业担保贷款和一次性创业补贴，详情咨询区人力社保局创业指导窗口。"),
    ("employment", "新就业形态劳动者有没有职业伤害保障？", "职业伤害 保障 工伤",
     "按国家新就业形态就业人员职业伤害保障试点政策，在试点平台接单的骑手、快递员由平台按单"
     "缴纳职业伤害保障费，发生伤害可申请待遇。"),
    ("legal", "被拖欠工资怎么办？", "欠薪 工资 拖欠 讨薪",
     "保留考勤、转账记录、聊天记录等证据，向区劳动保障监察大队投诉或申请劳动仲裁；"
     "也可拨打12333或12345。"),
    ("legal", "没有签劳动合同怎么办？", "劳动合同 签订",
     "用人单位自用工之日起超过一个月不满一年未订立书面劳动合同的，应向劳动者每月支付二倍工资。"),
    ("legal", "送件路上发生交通事故怎么处理？", "交通事故 事故 理赔",
     "先报警（122）并保护现场，及时就医，保留票据；属于工作原因的，可申请工伤认定或职业伤害保障。"),
    ("legal", "客户投诉被罚款合理吗？", "罚款 投诉 扣款",
     "用人单位不得以罚款代替管理，扣减工资需有合法依据；可向区人力社保局咨询或申请劳动仲裁。"),
    ("legal", "哪里可以获得免费法律援助？", "法律援助 律师 免费",
     "经济困难或追索劳动报酬的，可向区法律援助中心申请法律援助，电话12348。"),
    ("legal", "申请劳动仲裁需要什么材料？", "劳动仲裁 仲裁 材料",
     "仲裁申请书、身份证复印件、证明劳动关系的材料和证据；仲裁时效为一年，不收费。"),
    ("social_insurance", "快递小哥怎么交社保？", "社保 缴纳 参保",
     "与企业建立劳动关系的由企业缴纳；灵活就业人员可以个人身份参加养老保险和医疗保险。"),
    ("social_insurance", "外地户口能在北京交社保吗？", "外地 户口 社保",
     "可以。与北京用人单位建立劳动关系的，不论户籍，均应在北京参加社会保险。"),
    ("social_insurance", "社保断缴了有什么影响？怎么补缴？", "断缴 补缴 社保",
     "断缴可能影响医保报销和购房购车资格；企业欠缴的可向社保稽核部门投诉要求补缴。"),
    ("social_insurance", "工伤保险怎么申请工伤认定？", "工伤 认定",
     "事故发生之日起30日内由单位申请，单位未申请的，本人或近亲属可在1年内向区人力社保局申请。"),
    ("social_insurance", "医保在外地看病能报销吗？", "医保 异地 报销",
     "办理异地就医备案后，在备案地定点医院就医可直接结算。"),
    ("social_insurance", "灵活就业人员有没有社保补贴？", "社保补贴 灵活就业",
     "符合条件的就业困难人员灵活就业后可申请社会保险补贴，由街乡社保所受理。"),
    ("social_insurance", "养老保险交满多少年可以领养老金？", "养老 年限 领取",
     "累计缴费满15年、达到法定退休年龄可按月领取基本养老金。"),
]

MEETING_NEEDS = [
    ("sf", "freight_access", "货运车辆限行时段通行难",
     "早7点至9点、晚5点至8点限行，正是揽派高峰，集包车辆进不了城区，希望办理通行证或调整时段。"),
    ("jd", "freight_access", "新能源货车通行证办理慢", "申请通行证周期长，希望开通快递行业绿色通道。"),
    ("zto", "last_mile_site", "末端网点选址难", "小区周边找不到合规的网点用房，原址拆迁后无处落脚。"),
    ("yto", "last_mile_site", "分拣场地租金高、不合规", "希望利用闲置厂房或商业用房规划共配站点。"),
    ("sto", "freight_access", "城区卸货无临时停车位", "快递车在商圈卸货经常被贴条，希望设临时装卸位。"),
    ("yunda", "last_mile_site", "农村末端站点缺少用房", "乡镇村级快递服务站点缺少用房和电源。"),
]
WORKER_NEEDS = [
    ("meals", "中午找不到实惠的饭", "送餐高峰过后附近餐馆都贵，能否多些爱心套餐点？"),
    ("housing", "想租离站点近的宿舍", "现在住在十公里外，希望申请改建公寓。"),
    ("wage_arrears", "站点拖欠两个月工资", "加盟站点老板拖欠工资，多次讨要未果。"),
    ("social_insurance", "社保断缴怎么补", "换了站点后社保断缴三个月，怎么补缴？"),
    ("legal", "被客户投诉罚款", "一单投诉被扣200元，合理吗？"),
    ("employment", "想参加技能培训", "想考叉车证，有没有补贴培训？"),
    ("traffic_parking", "电动车没地方停", "小区不让电动车进，楼下乱停被罚。"),
    ("station_facilities", "驿站充电柜坏了", "驿站的换电柜坏了一周没人修。"),
    ("other", "希望驿站开到晚上", "夜班骑手晚上没地方休息。"),
]
STATES = ["received", "dispatched", "accepted", "in_progress", "answered", "resolved",
          "unresolved", "followed_up", "closed", "closed", "closed", "returned"]


def seed_departments() -> None:
    """Every demo department, in one place: the district's bodies of the report
    (data.DEPARTMENTS, at the district or, for 拱辰's command centre, at the street) and the
    street offices that street-level rules route to."""
    for code, zh, en, kind, phone in DEPARTMENTS:
        area_code = "110111011000" if code.startswith("gc-") else "110111"
        Department.objects.get_or_create(code=code, defaults={
            "name_zh": zh, "name_en": en, "kind": kind, "phone": phone,
            "area": Area.objects.get(code=area_code)})
    for code, zh, en, kind, area_code in EXTRA_DEPARTMENTS:
        Department.objects.get_or_create(code=code, defaults={
            "name_zh": zh, "name_en": en, "kind": kind, "area": Area.objects.get(code=area_code)})


@transaction.atomic
def seed_appeals() -> dict:
    root = Area.objects.get(code="110111")
    for i, (code, zh, en, hours, days, is_policy, dept) in enumerate(CATEGORIES):
        category, _ = Category.objects.get_or_create(code=code, defaults={
            "name_zh": zh, "name_en": en, "answer_hours": hours, "resolve_days": days,
            "is_policy": is_policy, "sort": i})
        RoutingRule.objects.get_or_create(category=category, area=None, defaults={
            "department": Department.objects.get(code=dept)})
    for cat, area_code, dept in STREET_RULES:
        RoutingRule.objects.get_or_create(
            category=Category.objects.get(code=cat), area=Area.objects.get(code=area_code),
            defaults={"department": Department.objects.get(code=dept)})
    services.appeal_settings()
    rsj = Department.objects.get(code="rsj")
    for topic, question, keywords, answer in POLICY:
        if not PolicyAnswer.objects.filter(question=question).exists():
            policy.policy_answer_save(actor=None, entry=PolicyAnswer(), topic=topic,
                                      question=question, answer=answer, keywords=keywords,
                                      department=rsj, source="区人力社保局（示例）")
    if Appeal.objects.exists():
        return {"appeals": Appeal.objects.count(), "created": 0}
    created = _cases(root)
    rollup_rebuild()
    return {"appeals": Appeal.objects.count(), "created": created}


def _cases(root: Area) -> int:
    rng = random.Random(12345)
    dispatcher = User.objects.filter(grants__role=Role.DISTRICT_ADMIN).first()
    assert dispatcher is not None, "the district admin is seeded first"
    dispatcher.auth_level = 3
    meeting = services.meeting_record(
        actor=dispatcher, title="房山区快递行业党建工作座谈会", held_on=date(2021, 10, 20),
        area=root, needs=[{"category": Category.objects.get(code=c), "title": t, "body": b,
                           "company": Brand.objects.get(code=brand)}
                          for brand, c, t, b in MEETING_NEEDS])
    workers = list(User.objects.filter(worker_profile__isnull=False,
                                       mobile__startswith="1990000").order_by("mobile")[:54])
    for i, worker in enumerate(workers):
        cat, title, body = WORKER_NEEDS[i % len(WORKER_NEEDS)]
        worker.auth_level = 1
        area = worker.worker_profile.areas.first() or root
        appeal = services.appeal_create(
            actor=worker, category=Category.objects.get(code=cat), area=area, title=title,
            body=body, hide_from_department=i % 7 == 0, anonymous_public=i % 3 == 0)
        _advance(appeal, STATES[i % len(STATES)], worker, dispatcher, rng)
    for appeal in meeting.appeals.all()[:4]:
        _advance(appeal, "answered", None, dispatcher, rng)
    return len(workers) + len(MEETING_NEEDS)


def _advance(appeal: Appeal, target: str, worker, dispatcher, rng) -> None:
    """Walk a case through the real services up to `target`."""
    def step(actor, action, **kw):
        services.appeal_transition(actor=actor, appeal_id=appeal.pk, action=action, **kw)

    if target == "received":
        return
    step(dispatcher, "dispatch")
    appeal.refresh_from_db()
    assert appeal.department is not None  # just dispatched
    staff = _department_staff(appeal.department)
    if target == "returned":
        step(staff, "return", note="不属于本部门职责，请改派。")
        return
    if target == "dispatched":
        return
    step(staff, "accept")
    if target == "accepted":
        return
    step(staff, "start")
    if target == "in_progress":
        return
    step(staff, "answer", note="已联系诉求人，协调相关单位处理，处理结果已告知。")
    if target == "answered" or worker is None and target != "closed":
        return
    resolved = rng.random() < 0.8
    mood = rng.choice(["satisfied", "satisfied", "fairly", "dissatisfied"]) if resolved \
        else rng.choice(["fairly", "dissatisfied"])
    step(worker, "rate", resolved=resolved, satisfaction=mood)
    if target in ("resolved", "unresolved"):
        return
    step(dispatcher, "followup", note="电话回访，诉求人确认评价。")
    if target == "closed":
        step(dispatcher, "close")


def _department_staff(department: Department) -> User:
    """A demo staff member for each department (the demo's 赵科员 is 区人力社保局's)."""
    user = User.objects.filter(grants__department=department, grants__role=Role.DEPARTMENT) \
        .first()
    if user is None:
        mobile = f"1380001{department.pk:04d}"
        user = User.objects.filter(mobile=mobile).first() or User.objects.create_user(
            mobile, None, real_name=f"{department.name_zh}值班员")
        role_grant(actor=None, user=user, role=Role.DEPARTMENT, area=department.area,
                   department=department)
    user.auth_level = 2
    user.forget_grants()
    return user
