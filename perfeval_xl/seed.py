"""The seed report (益阳市人民政府办公室, 2024) exactly as printed, inconsistencies included.

Values are the printed strings, odd spaces and all ("　116" has a full-width
space). Keys are layout field keys. It is a real submission: do not correct it.
Derived figures are kept apart so that tests can check the template's formulas
compute what was printed.
"""
from __future__ import annotations

UNIT_NAME = "益阳市人民政府办公室"
YEAR = "2024"

# Input cells of the template, as printed.
INPUTS: dict[str, str] = {
    "unit_name": UNIT_NAME,
    "year": YEAR,
    # (a) 三公: the car line is derived from (b)'s breakdown in our template
    "sg_abroad_actual": "4.87",
    "sg_abroad_budget": "20",
    "sg_abroad_prev": "40.97",
    "sg_reception_actual": "1.91",
    "sg_reception_budget": "5",
    "sg_reception_prev": "4.95",
    # (b) 基础数据表
    "staff_quota": "116　",
    "staff_actual": "116　",
    "bd_car_purchase_prev": "　19.57",
    "bd_car_purchase_budget": "69.96",
    "bd_car_purchase_actual": "69.96",
    "bd_car_maintenance_prev": "　38.95",
    "bd_car_maintenance_budget": "59",
    "bd_car_maintenance_actual": "66.87",
    "public_total_prev": "　",
    "public_total_budget": "　",
    "public_total_actual": "　",
    "public_office_prev": "32.82",
    "public_office_budget": "15",
    "public_office_actual": "38.59",
    "public_utilities_travel_prev": "90.92",
    "public_utilities_travel_budget": "80　",
    "public_utilities_travel_actual": "120.82　",
    "public_meetings_training_prev": "1.74",
    "public_meetings_training_budget": "9",
    "public_meetings_training_actual": "13.64",
    "procurement_budget": "　",
    "procurement_actual": "　",
    "basic_adjustment_budget": "　",
    "basic_adjustment_actual": "　",
    "frugality": "　",
    "bd_preparer": "周旭",
    "bd_date": "2025年4月22日",
    "bd_phone": "15273788388",
    "bd_signature": "",
    # (c) 绩效自评表
    "funds_initial": "2331.68",
    "funds_budget": "3676.31",
    "funds_actual": "3527.66",
    "income_general": "3676.31",
    "exp_basic": "2793.13",
    "goal_expected": (
        "提高办文办会办事质效，发挥参谋助手作用；围绕工作职能，做好文稿起草，收集、整理、传递政务信息；"
        "高效推进重要决定、重大决策、重点工作的督促检查、情况反馈；持续推进市优化营商环境工作； "
        "强化后勤保障，确保部门运转稳定有序。"
    ),
    "goal_actual": (
        "全年起草工作报告、领导讲话、经验总结、情况汇报等综合性文稿900余篇；全年共收到请示性公文和现行文书4500余件，"
        "均按“分类快办、跟踪办理、限时办结”要求办理；持续深化“执行力提升行动”，充分发挥督查“利剑”作用，"
        "推进重点工作落实；深化“营商环境提升行动”，聚焦打造“三化”一流营商环境，出台20条硬措施，"
        "推动42项省市重点任务落地落实。"
    ),
    "se_preparer": "周旭",
    "se_date": "2025年4月22日",
    "se_phone": "15273788388",
    "se_signature": "",
}

# Derived figures as printed; the template's formulas must compute these (0.01 tolerance).
PRINTED_DERIVED: dict[str, str] = {
    "sg_abroad_diff_budget": "-15.13",
    "sg_abroad_diff_prev": "-36.1",
    "sg_abroad_pct": "-88.11%",
    "sg_car_actual": "136.83",
    "sg_car_budget": "128.96",
    "sg_car_diff_budget": "7.87",
    "sg_car_prev": "58.52",
    "sg_car_diff_prev": "78.31",
    "sg_car_pct": "133.82%",
    "sg_reception_diff_budget": "-3.09",
    "sg_reception_diff_prev": "-3.04",
    "sg_reception_pct": "-61.41%",
    "sg_total_actual": "143.61",
    "sg_total_budget": "153.96",
    "sg_total_diff_budget": "-10.35",
    "sg_total_prev": "104.44",
    "sg_total_diff_prev": "39.17",
    "sg_total_pct": "37.5%",
    "staff_rate": "　100%",
    "bd_sg_total_prev": "104.44",
    "bd_sg_total_budget": "153.96",
    "bd_sg_total_actual": "143.61",
    "bd_car_prev": "　58.52",
    "bd_car_budget": "128.96",
    "bd_car_actual": "136.83",
    "bd_abroad_prev": "　40.97",
    "bd_abroad_budget": "20",
    "bd_abroad_actual": "4.87",
    "bd_reception_prev": "　4.95",
    "bd_reception_budget": "5　",
    "bd_reception_actual": "1.91　",
    "bd_projects_total_prev": "861.54　",
    "bd_projects_total_budget": "734.53　",
    "bd_projects_total_actual": "　734.53",
    "funds_points": "10",
    "execution_rate": "95.96%",
    "execution_score": "9.6",
    "exp_project": "734.53",
    "points_total": "100",
    "total_score": "　99.2",
}

# 项目支出 lines as printed: (name, 上年决算数, 本年预算数, 本年决算数). Two are both "金融支出".
PROJECTS: list[tuple[str, str, str, str]] = [
    ("1、行政运行", "189.75", "57.92　", "57.92　"),
    ("2、公务用车购置", "　", "69.96", "69.96"),
    ("3、春节慰问经费", "18", "21.6", "21.6"),
    ("4、\n2020年度省政府真抓实干奖励资金", "", "5", "5"),
    ("5、派驻纪检组监察组工作经费", "", "10", "10"),
    ("6、政务公开工作经费", "", "23.99", "23.99"),
    ("7、公用经费", "", "4.57", "4.57"),
    ("8、除夕慰问物资采购", "", "5.2", "5.2"),
    ("9、真抓实干奖", "2", "21.3", "21.3"),
    ("10、市长热线话务人员服务外包费", "632.64", "415.94", "415.94"),
    ("11、业务工作开展专项经费", "", "25.16", "25.16"),
    ("12、电子政务内网“双活”项目费用\n", "", "10.47", "10.47"),
    ("13、优化经济发展环境工作专项", "", "38", "38"),
    ("14、巩固脱贫攻坚成果衔接乡村振兴", "", "1.53", "1.53"),
    ("15、金融支出", "", "3.89", "3.89"),
    ("16、金融支出", "", "　20", "　20"),
    ("17、档案整理扫描工作经费", "19.15", "", ""),
]

# 绩效指标 lines as printed: (一级, 二级, 三级, 年度指标值, 实际完成值, 分值, 自评得分, 偏差原因).
# 一级 and 二级 are merged down in the form; here each line repeats its group.
INDICATORS: list[tuple[str, str, str, str, str, str, str, str]] = [
    ("产出指标\n\n(50分)", "数量指标", "每天值班小时", "　=24", "　=24", "10", "　10", "　"),
    ("产出指标\n\n(50分)", "质量指标", "通过审核拒付不合规票据或超标准支出", "=100%", "　=100%", "15", "　15", "　"),
    ("产出指标\n\n(50分)", "时效指标", "各项工作经费及时足额拨付率", "=100%", "　=100%", "10", "　10", "　"),
    ("产出指标\n\n(50分)", "成本指标", "基本支出和项目支出", "不超支", "3527.66", "10", "　9.6", "　更加科学的做好预算工作"),
    ("效益指标\n\n（30分）　", "经济效\n\n益指标", "不适用", "-", "-", "　", "　", "　"),
    ("效益指标\n\n（30分）　", "社会效\n\n益指标", "受理全市市民群众的求助", "　≥90%", "　99.06%", "10", "　10", "　"),
    ("效益指标\n\n（30分）　", "生态效\n\n益指标", "不适用", "-", "-", "　", "　", "　"),
    ("效益指标\n\n（30分）　", "可持续影响指标", "为全市营商环境优化提供最有效的保障", "　中长期", "　中长期", "15", "　15", "　"),
    ("满意度\n\n指标\n\n（10分）", "服务对象满意度指标", "全市市民对工作的满意度", "　≥90%", "　97.24%", "20", "20", "　"),
]

# The seed's indicator grouping, for an example laid out exactly like it: (一级, [(二级, rows)]).
INDICATOR_GROUPS = (
    ("产出指标（50分）", (("数量指标", 1), ("质量指标", 1), ("时效指标", 1), ("成本指标", 1))),
    ("效益指标（30分）", (("经济效益指标", 1), ("社会效益指标", 1), ("生态效益指标", 1), ("可持续影响指标", 1))),
    ("满意度指标（10分）", (("服务对象满意度指标", 1),)),
)

# 报告正文: the seed's own prose (sections 一 to 十) and the facts it states that no table holds.
NARRATIVE: dict[str, str] = {
    "report_date": "2025年4月23日",
    "main_functions": (
        "1.协助市政府领导审核或组织起草以市政府、市政府办公室名义发布的公文。2.研究市政府各部门、各直属事业单位、"
        "省属驻益各有关单位和各区县（市）政府请示市政府的事项，提出审核意见，或对市政府部门间的分歧事项提出处理意见，"
        "报市政府领导同志审批、决定。3.负责市政府会议的准备工作，协助市政府领导组织会议决定事项的实施。"
        "4.督促检查市政府各部门和各区县（市）政府对市政府决定事项及市政府领导同志有关指示的执行落实情况并跟踪调研，"
        "及时向市政府领导报告。5.负责市政府值班工作，及时报告重要情况，传达和督促落实市政府领导指示；负责市长热线工作。"
        "6.负责编辑市政府公报，编写市政府大事记。7.负责组织协调开展人大代表建议、政协提案办理工作。8.优化全市营商环境。"
        "9.负责市政府领导和市政府办公室机关内部的后勤保障、财务管理和有关接待工作。10.负责桃花江核电项目建设的宣传、"
        "协调、督促及厂址保护等工作；负责全市核技术产业化基地建设的协调工作。11.负责全市政府系统办公室业务指导。"
        "12.完成市委、市政府和市政府领导交办的其它任务。"
    ),
    "organization": (
        "益阳市政府办内设职能科室28个：文电管理科（市政府公报编辑部）、政务一科、政务二科（核电办）、政务三科、政务四科、"
        "政务五科、政务六科、政务七科、政务八科、政务九科、综合信息科、放管服改革科、优化经济发展环境科、建议提案科、"
        "政务公开科、政府网站管理科、人事科、行政事务管理科、督查室（对外称市政府督查室）、市政府总值班室、市长热线办公室、"
        "离退休人员管理服务科、机关党委、市优化营商环境事务中心、资本市场科、银行保险科、金融监管与稳定科、"
        "市地方金融发展服务中心。二级机构四个：益阳市政府驻北京联络处、市政府驻上海联络处、市政府驻广州办事处、"
        "市政府驻长沙办事处。"
    ),
    "income_total": "3527.66",
    "expenditure_total": "3527.66",
    "carryover_prev": "0",
    "carryover_current": "0",
    "has_gov_fund_exp": "无",
    "has_state_capital_exp": "无",
    "has_social_insurance_exp": "无",
    "perf_budget_execution": (
        "本年预算配置控制较好，按照市委编办核定的单位财政供养人员编制数要求，实际在职人员数控制在编制人数范围内；"
        "按照绩效目标设定的要求，项目执行过程中，在保证项目质量安全的前提下，单位合理控制成本；“三公经费”支出总额控制得当。"
    ),
    "perf_budget_management": (
        "市政府办按照2024年初制定的单位预算方案，无论是在资金、项目还是在支出模式、支出结构上，都严格管理，"
        "较好地完成了年初绩效预算的目标。市政府办党组十分重视单位绩效管理工作。2024年全年，在办党组会议上多次讨论财务工作，"
        "对一定时段的每一个项目及具体工作进行讨论、研究及部署，工作小组的每一位成员都积极参与其中，共同努力，取得了较好的成绩。"
    ),
    "perf_financial_management": (
        "各项工作经费都及时足额拨付，拒付不合规票据或超标准支出，“三公”经费控制在预算范围内；热线工作方面："
        "市12345热线共受理群众诉求42.15万件（同比增长9.82%），当场答复28万件，形成交办工单14.15万件，按期办结率99.06%，"
        "回访率100%，满意率97.24%；其他工作方面：实施24小时值班制度，为全市营商环境优化提供最有效的保障。"
    ),
    "problems": "财务制度有待进一步完善，执行力度有待进一步加强，资产管理不够严谨，业务水平有待提高。",
    "improvements": (
        "在今后的工作中，做到加强监管，做到监管机制环环相扣，不出现断层。行政单位预算是财政总预算的基础，"
        "是党和国家方针政策和社会发展战略在行政单位预算中的体现，是单位行政正常开展业务活动的重要经济保证。因此，"
        "为保证预算编制的质量，在编制预算中，本单位遵循下列原则：合法性原则、完整性原则、真实性原则、稳妥性原则、"
        "合作性原则、绩效性原则。"
    ),
    "result_application": "本单位整体支出绩效自评结果拟通过益阳市人民政府办公室在线门户网上公开。",
    "other_notes": "无",
}
