# Pitstop UI, English. Every id here must also be in zh-CN/main.ftl (a test checks).

loading = Loading…
not-on-device = This order is not on this device yet.
job-done = The job is done.
order-cancelled = This order was cancelled.
nothing-live = There is nothing live to follow any more.
master-there = The master is there
eta = ETA { $duration } · { $km } km
eta-old = ETA was { $duration } · { $km } km, from a position { $ago }
waiting-first-position = Waiting for the master's first position
your-master = Your master: { $name }
master-assigned = A master is assigned
no-master = No master assigned yet
no-signal = No signal from the master since { $time }. The position shown may be out of date.
updated = Updated { $ago }
seconds-ago = { $n } s ago
minutes-ago = { $n } min ago
minutes = { $n } min
seconds = { $n } s
live-tracking = live tracking
your-car = Your car
language = Language
status-pending = pending
status-offered = offered to a technician
status-assigned = assigned
status-unassigned = unassigned
status-en_route = en route
status-arrived = arrived
status-in_progress = in progress
status-completed = completed
status-cancelled = cancelled
starting = Starting…
account = Account
signout = Sign out
signout-unsent = { $n ->
    [one] 1 action has not reached the platform yet
   *[other] { $n } actions have not reached the platform yet
}
signout-explain = Signing out now deletes them from this device. Stay signed in until they are sent (they go as soon as there is a connection), or sign out and lose them.
signout-keep = Stay signed in
signout-force = Sign out and lose them
platform-line = { $name } · platform { $url }
role-technician = technician
role-desk = desk
role-admin = admin
role-owner = owner
master = Master
map = map
map-empty = Nothing to show on the map yet.
map-km = { $n } km
map-m = { $n } m
map-zoom-in = Zoom in
map-zoom-out = Zoom out
map-fit-label = Show everything
map-fit = Fit
