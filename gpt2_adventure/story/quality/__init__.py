"""How good the replies are, in numbers: text metrics (``metrics``) and scripted games at
each sampling preset (``play``), for ``gpt2-adventure bench --quality``."""
