"""A browser chat page over rxstream: live text, typing indicator, Stop, resume on reconnect.

``python -m examples.web_chat`` (or ``make web``) serves it on http://127.0.0.1:8080
against the embedded mock; ``--base-url``/``--provider``/``--model`` point it at a real
API (the key comes from the provider's environment variable).

The page posts a prompt to ``/api/chat``, which starts a ``LiveStream``
(``rs.chat → text → [smooth] → throttle_text``) and answers its id; the page reads
``/api/stream/{id}`` with an ``EventSource``. Stop posts ``/api/stop/{id}``, which
cancels the upstream request at once. When the connection drops, the browser
reconnects by itself with ``Last-Event-ID`` and the stream resumes from the live
stream's buffer: no gap, no duplicate.
"""
