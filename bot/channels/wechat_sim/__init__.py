"""A stand-in for WeChat, for tests and for people: the Official Account API that the channel
calls (``platform``), the WeChat server that posts users' messages to the channel's webhook
(``server``), and a web page where a person chats as a WeChat user (``simulator``,
``python -m bot.channels.wechat_sim``).

It follows WeChat's public protocol (``CHANNELS.md``), not the channel's code, so that the
channel's tests check it against WeChat's rules rather than against itself. Nothing here runs
inside the Rasa server.
"""
