"""Fangshan demo data, from the 2021 report on the 37°C+ service system (see shared/seed) and
the district's divisions (fangshan_areas.csv). Phone numbers and people are made up; community
codes ending in 9xx are made up too (the real 12-digit codes are not in our reference data)."""

# Streets/towns the report names get demo communities; (code, name_zh, name_en, dlat, dlng).
COMMUNITIES = {
    "110111011000": [  # 拱辰街道 (伊林郡社区 is in the CSV)
        ("110111011901", "行宫园社区", "Xinggongyuan Community", 0.012, 0.004),
        ("110111011902", "瓦窑头社区", "Wayaotou Community", -0.008, 0.010),
    ],
    "110111012000": [  # 西潞街道
        ("110111012901", "苏庄三里社区", "Suzhuang Sanli Community", 0.006, -0.006),
        ("110111012902", "太平庄社区", "Taipingzhuang Community", -0.007, 0.005),
    ],
    "110111105000": [  # 长阳镇
        ("110111105901", "长阳半岛社区", "Changyang Peninsula Community", 0.010, -0.012),
        ("110111105902", "碧桂园社区", "Biguiyuan Community", -0.010, 0.008),
    ],
    "110111001000": [  # 城关街道
        ("110111001901", "东沙河社区", "Dongshahe Community", 0.005, 0.006),
    ],
    "110111103000": [  # 窦店镇
        ("110111103901", "窦店村", "Doudian Village", 0.004, -0.004),
    ],
    "110111101000": [  # 阎村镇
        ("110111101901", "阎村村", "Yancun Village", 0.003, 0.003),
    ],
    "110111004000": [  # 向阳街道 (燕山)
        ("110111004901", "岗南社区", "Gangnan Community", -0.004, 0.004),
    ],
}

# Rows of the CSV that are places rather than areas: they become stations in the stations app.
PLACES_NOT_AREAS = {"110111-HGLX", "110111-DDXJY"}

DISTRICT_CONTACTS = [
    ("hotline", "北京市民服务热线", "12345", "", "24小时"),
    ("service_centre", "房山区党群服务中心", "010-89350000", "房山区良乡镇政通路1号", "9:00-17:00"),
]

DEPARTMENTS = [
    # code, name_zh, name_en, kind, phone
    ("zjw", "区住建委", "District Housing and Urban-Rural Development Commission", "district_body", "010-89351001"),
    ("rsj", "区人力社保局", "District Human Resources and Social Security Bureau", "district_body", "010-89351002"),
    ("zgh", "区总工会", "District Federation of Trade Unions", "mass_org", "010-89351003"),
    ("twq", "团区委", "District Committee of the Communist Youth League", "mass_org", "010-89351004"),
    ("fl", "区妇联", "District Women's Federation", "mass_org", "010-89351005"),
    ("ggb", "区委改革办", "District Reform Office", "district_body", "010-89351006"),
    ("yzj", "市邮政管理局南区分局", "Beijing Postal Administration, South Branch", "regulator", "010-89351007"),
    ("cgzx", "区城市管理指挥中心", "District City-Management Command Centre", "command_centre", "010-89351008"),
    ("gaj", "公安房山分局", "Fangshan Public Security Sub-bureau", "police", "110"),
    ("gc-cgzx", "拱辰街道城市管理指挥中心", "Gongchen City-Management Command Centre", "command_centre", "010-89352001"),
]

BRANDS = [
    # code, name_zh, name_en, kind — the 11 express brands at the Fangshan meeting, then platforms
    ("sf", "顺丰速运", "SF Express", "express"),
    ("jd", "京东物流", "JD Logistics", "express"),
    ("ems", "中国邮政EMS", "China Post EMS", "express"),
    ("zto", "中通快递", "ZTO Express", "express"),
    ("yto", "圆通速递", "YTO Express", "express"),
    ("sto", "申通快递", "STO Express", "express"),
    ("yunda", "韵达速递", "Yunda Express", "express"),
    ("jt", "极兔速递", "J&T Express", "express"),
    ("deppon", "德邦快递", "Deppon Express", "express"),
    ("dn", "丹鸟物流", "Danniao Logistics", "express"),
    ("zjs", "宅急送", "ZJS Express", "express"),
    ("meituan", "美团", "Meituan", "food_delivery"),
    ("eleme", "饿了么", "Ele.me", "food_delivery"),
    ("didi", "滴滴出行", "DiDi", "ride_hailing"),
    ("caocao", "曹操出行", "Caocao", "ride_hailing"),
    ("other", "其他", "Other", "other"),
]

DEMO_PASSWORD = "Warm37-demo!"

# One sign-in per role: mobile, name, role, area code, department code, TOTP secret.
DEMO_ACCOUNTS = [
    ("13800000001", "张小哥", "worker", "110111-YLJ", None, None),
    ("13800000002", "李管家", "steward", "110111-YLJ", None, None),
    ("13800000003", "王老板", "merchant", "110111012000", None, None),
    ("13800000004", "赵科员", "department", "110111", "rsj", None),
    ("13800000005", "陈主任", "area_admin", "110111011000", None, "JBSWY3DPEHPK3PXPWARMSTATION5AREA"),
    ("13800000006", "刘书记", "district_admin", "110111", None, "JBSWY3DPEHPK3PXPWARMSTATION6DIST"),
    ("13800000007", "孙奶奶", "resident", "110111-YLJ", None, None),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥才发武新利清飞彬富顺信子杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思群豪心邦承乐绍功松善厚庆磊民友裕河哲江超浩亮政谦亨奇固之轮翰朗伯宏言若鸣朋斌梁栋维启克伦翔旭鹏泽晨辰士以建家致树炎德行时泰盛雄琛钧冠策腾楠榕风航弘"
