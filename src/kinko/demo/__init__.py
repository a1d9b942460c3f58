"""The sample exchange `kinko demo` builds and walks; demo code only, never imported by
the domain packages.

`exchange` builds the sample exchange (people, authenticators, wallets, lists, prices) in a
data directory; `bitcoin` the cold 2-of-3 regtest act; `walk` the withdrawal walk and the
refused altered bundle; `data` the files the demo writes beside them. The `kinko demo`
command itself is `kinko.cli.demo`.
"""
