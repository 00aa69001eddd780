# Pitstop UI (en): the technician's (master's) view: shift, offers, the active job, earnings, history.

tech-shift-on = On shift — tap to go off
tech-shift-go-on = Go on shift
tech-off-shift-title = You have a job in progress
tech-off-shift-text = Going off shift does not hand the job back: you stay its technician and the customer keeps waiting for you. Finish it first, or ask the desk to reassign it.
tech-off-shift-stay = Stay on shift
tech-off-shift-anyway = Go off shift anyway
tech-offers = Offers
tech-no-offers = No offers right now.
tech-active-job = Active job
tech-no-active-job = No active job.
tech-earnings = Earnings
tech-earned-today = Today { $amount } · { $n ->
    [one] { $n } job
   *[other] { $n } jobs
}
tech-earned-week = This week { $amount } · { $n ->
    [one] { $n } job
   *[other] { $n } jobs
}
tech-earnings-offline = Earnings show when the platform can be reached.
tech-history = History
tech-no-history = No past jobs yet.
tech-offer-accepting = Accepted — waiting for the platform…
tech-offer-declined = Declined
tech-offer-refused = Not yours: { $reason }
tech-accept = Accept
tech-decline = Decline
tech-offer-urgent = Ten seconds or less to answer the { $service } offer
tech-offer-new = New offer: { $service }, { $km } km away, you earn { $amount }
tech-offer-label = Offer: { $service }
tech-you-earn = You earn { $amount }
tech-offer-when = When: { $start }–{ $end }
tech-offer-car = Car: { $car }
tech-offer-away = { $km } km away
tech-offer-area-away = { $area } · { $km } km away
tech-offer-work = About { $duration } of work · customer pays { $price }
tech-time-left = Time left to answer
tech-seconds-left = { $n } seconds left
tech-seconds-to-answer = { $n } s to answer
tech-contact-failed = Could not reach the customer: { $error }
tech-marker-you = You
tech-you-are-there = You are there
tech-distance-eta = { $km } km · about { $duration }
tech-position-unknown = Your position is not known yet
tech-where-label = Where the car is
tech-pin-only = Pin on the map (no address given)
tech-navigate = Navigate
tech-call-customer = Call customer
tech-message-customer = Message
tech-call-relay = Call { $number } and key in { $pin }#
tech-relay-private = the customer's own number stays private; this works until the job ends.
tech-part-name-control = The part name contains an invisible control character (U+{ $code }); remove it and try again.
tech-part-name-empty = The part name is empty; type at least one visible character.
tech-part-name-long = The part name is { $n } characters long; it can have at most { $max }.
tech-qty-invalid = The quantity is a whole number from 1 to 1000.
tech-price-invalid = Type the price of one part as a number, like 12.50 (up to 1,000,000).
tech-completing = Completing the job in { $n } s.
tech-undo = Undo
tech-note = Note
tech-note-placeholder = Add a note
tech-add-note = Add note
tech-part = Part
tech-quantity = Quantity
tech-unit-price = Price of one, in { $currency }
tech-unit-price-placeholder = { $currency } each
tech-add-part = Add part
tech-price-parts = Price { $price } · parts { $parts }
