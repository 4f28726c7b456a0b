"""Durable, exactly-once scheduling of deliveries.

The database is the source of truth: one ``Delivery`` row per post x channel x occurrence (see ``models.py``).

* ``sync.py``       schedule.toml → delivery rows (idempotent; a campaign that fails ``check`` is refused)
* ``claim.py``      atomic claiming of due rows (``FOR UPDATE SKIP LOCKED`` / SQLite ``BEGIN IMMEDIATE``), missed marking
* ``outcome.py``    recording what a send attempt returned, one transaction per outcome, per error class
* ``worker.py``     the delivery loop: claim batches, send them on a thread pool, record outcomes
* ``reconcile.py``  ``unconfirmed`` rows → ``sent`` or back to ``scheduled`` by reading the account's recent posts
* ``sweeper.py``    rows left in ``sending`` by a dead worker (or past the lease) → reconciliation
* ``jobs.py``       thin ``fn(settings, engine, now)`` jobs, named by ``"module:callable"``
* ``scheduler.py``  the APScheduler 3.x ``BackgroundScheduler`` wiring
* ``roles.py``      starting the scheduler and worker roles in threads, or in the foreground until a signal
* ``status.py``     the manager's view (``social-campaign status``)
* ``demo.py``       ``social-campaign demo``
"""
