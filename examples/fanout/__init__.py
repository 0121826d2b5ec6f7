"""Scale-out demo: one producer worker, two web workers, one Redis, one browser page.

``python -m examples.fanout`` starts (in one process, for the demo) the embedded mock,
a producer worker, two web workers on ports 8081 and 8082 and a round-robin balancer
in front of them on 8080, against ``--redis redis://...`` or a ``redis-server`` it
starts on a free port. Open the balancer (or either worker): the page is the web-chat
page, and through the balancer each of its requests goes to the next worker. A prompt
posted to any worker becomes a job on the Redis stream ``jobs``; the producer takes it
and streams the answer into ``chat:{id}`` with ``produce_once``; every web worker
serves it with ``sse_response`` over ``from_redis_stream``, resuming from the browser's
``Last-Event-ID`` — so the browser may reconnect to either worker mid-answer. Stop on
any worker stops the producer's upstream request.
"""
