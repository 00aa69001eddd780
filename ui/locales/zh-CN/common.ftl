
# 各视图共用：步骤、同步状态、时间线、服务项目、时间。

step-set-off = 出发
step-arrived = 已到达
step-start-work = 开始施工
step-complete = 完成服务
step-next = 下一步
age-under-minute = 不到一分钟
hours-minutes = { $h } 小时 { $m } 分钟
sync-online = 在线
sync-offline = 离线
sync-never = 从未同步
sync-last = { $time } 已同步
sync-pending = { $n } 项待发送
sync-oldest = 最早一项已等待 { $age }
sync-fixes = { $n } 个 GPS 位置待发送
sync-now = 立即同步
sync-not-done = 未完成：{ $reason }
sync-refused = 被拒绝
retry = 重试
dismiss = 忽略
sent-late-title = 离线时完成，平台稍后才收到
sent-late = { $time } 发送
notes = 备注
parts = 配件
part-line = { $qty } × { $name }，单价 { $price }
service-oil_change = 更换机油和机滤
service-brake_pads = 更换前刹车片
service-tyre_swap = 换季轮胎更换
service-battery = 电瓶检测与更换
service-diagnostics = 发动机诊断（OBD 扫描）
service-ac_service = 空调保养
