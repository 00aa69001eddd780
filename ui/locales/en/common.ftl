
# Pieces every view shares: steps, sync badge, timeline, services, time.

step-set-off = Set off
step-arrived = Arrived
step-start-work = Start work
step-complete = Complete job
step-next = Next
age-under-minute = under a minute
hours-minutes = { $h } h { $m } min
sync-online = online
sync-offline = offline
sync-never = never synced
sync-last = synced { $time }
sync-pending = { $n } pending
sync-oldest = oldest waiting { $age }
sync-fixes = { $n } GPS fixes to send
sync-now = Sync now
sync-not-done = Not done: { $reason }
sync-refused = refused
retry = Retry
dismiss = Dismiss
sent-late-title = Done offline; the platform heard of it later
sent-late = sent { $time }
notes = Notes
parts = Parts
part-line = { $qty } × { $name } at { $price }
service-oil_change = Oil and filter change
service-brake_pads = Brake pads, front axle
service-tyre_swap = Seasonal tyre swap
service-battery = Battery test and replacement
service-diagnostics = Engine diagnostics (OBD scan)
service-ac_service = Air-conditioning service
