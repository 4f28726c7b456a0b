"""Signed webhooks (Standard Webhooks): events queued in the caller's transaction, sent by the worker role.

* ``events.py``     :func:`~social_campaign.webhooks.events.emit`: one ``WebhookDelivery`` per subscribed endpoint
* ``endpoints.py``  the ``webhookendpoint`` table, the settings endpoint, pause and resume
* ``sender.py``     one signed POST with bounded wait and read
* ``worker.py``     the delivery loop: claim in batches, send, retry with backoff, pause a failing endpoint
"""
