"""The outbox: e-mails written in the same transaction as the change that causes them, then
delivered by a worker with retries and back-off (issue 17, "nothing lost when something fails").

- ``shop.mail.send_mail(to, subject, body)`` queues an ``OutboxMessage`` in the current session;
  it is committed (or rolled back) with the order, account change… that caused it.
- After the commit the new rows are handed on (``services.dispatch``): to RQ on Redis when
  ``REDIS_URL`` is set (a worker sends them), else delivered at once in-process.
- ``flask --app wsgi outbox deliver`` (cron) sends whatever is due and was not sent, whatever the
  reason (a failed try, a job Redis lost, a worker killed mid-send), and purges old sent rows.
"""
