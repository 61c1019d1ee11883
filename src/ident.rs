//! Text forms of identities (whack --id, --keyid, --myid, ipsec.secrets indices).
