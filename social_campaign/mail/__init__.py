"""Email: the queue (``queue.py``), rendering (``render.py``), transports (``transport.py``: SMTP or the mail folder)
and the worker that drains the queue (``worker.py``)."""
