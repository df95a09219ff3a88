"""The event classes workers report, after GB/T 30428.2-2013 (数字化城市管理信息系统 第2部分：
管理部件和事件): its 事件 classes 市容环境, 宣传广告, 施工管理, 街面秩序 and the 部件 damage a
passer-by sees (设施损坏). Plain data: migration 0002 seeds it, `report_categories_seed()`
restores it (tests that flush the database, a demo)."""

# code, group_zh, group_en, name_zh, name_en, resolve working days, keywords
CATEGORIES = [
    ("exposed_garbage", "市容环境", "City appearance", "暴露垃圾", "Exposed garbage", 1, "垃圾,脏乱"),
    ("muck_piles", "市容环境", "City appearance", "积存渣土", "Piled muck and spoil", 2, "渣土,建筑垃圾"),
    ("dirty_road", "市容环境", "City appearance", "道路不洁", "Dirty road", 1, "路面,脏"),
    ("piled_materials", "市容环境", "City appearance", "堆物堆料", "Piled goods and materials", 2, "堆放,占道"),
    ("graffiti", "市容环境", "City appearance", "乱贴乱画", "Fly-posting and graffiti", 2, "小广告,涂鸦"),
    ("overflowing_bins", "市容环境", "City appearance", "垃圾满溢", "Overflowing bins", 1, "垃圾桶,满"),
    ("untidy_green", "市容环境", "City appearance", "绿地脏乱", "Untidy green space", 2, "绿地,草坪"),
    ("illegal_ads", "宣传广告", "Publicity and advertising", "违规户外广告", "Unauthorised outdoor advertising", 5, "广告牌,横幅"),
    ("leaflets", "宣传广告", "Publicity and advertising", "散发小广告", "Handing out leaflets", 2, "传单"),
    ("damaged_signs", "宣传广告", "Publicity and advertising", "牌匾标识破损", "Damaged shop sign", 3, "招牌,牌匾"),
    ("muck_spill", "施工管理", "Construction", "渣土车遗撒", "Spillage from muck trucks", 1, "遗撒,渣土车"),
    ("uncovered_site", "施工管理", "Construction", "工地未苫盖", "Construction site left uncovered", 2, "扬尘,苫盖"),
    ("road_works", "施工管理", "Construction", "违规占道施工", "Unauthorised road works", 3, "施工,占道"),
    ("street_vending", "街面秩序", "Street order", "无照游商", "Unlicensed street vending", 1, "摆摊,游商"),
    ("outside_shop", "街面秩序", "Street order", "店外经营", "Trading outside the shop", 1, "出店,占道经营"),
    ("bike_parking", "街面秩序", "Street order", "非机动车乱停放", "Disorderly bike parking", 1, "共享单车,电动车"),
    ("manhole", "设施损坏", "Damaged facilities", "井盖缺失破损", "Missing or broken manhole cover", 1, "井盖"),
    ("streetlight", "设施损坏", "Damaged facilities", "路灯不亮", "Streetlight out", 3, "路灯"),
    ("damaged_road", "设施损坏", "Damaged facilities", "道路破损", "Damaged road surface", 5, "坑洼,路面"),
    ("guardrail", "设施损坏", "Damaged facilities", "护栏破损", "Damaged guardrail", 3, "护栏,隔离栏"),
]
