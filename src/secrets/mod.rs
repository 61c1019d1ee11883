//! ipsec.secrets: lexer, grammar, and the loaded secrets.
