/* bench/dh-exponent.c: how long a private exponent strongSwan's openssl plugin gets
 * from this host's OpenSSL 3 for a MODP group, by the same calls as its
 * openssl_diffie_hellman.c with strongSwan's default dh_exponent_ansi_x9_42 = yes
 * (p and g only, no private length: OpenSSL chooses).  Prints the lengths in bits,
 * smallest and largest of 32 keys:   dh-exponent PRIME_HEX  ->  "MIN MAX"
 * Built and run by bench/run (gcc, libssl-dev). */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	BIGNUM *p = NULL, *g = NULL;
	int i, lo = 1 << 30, hi = 0;

	if (argc != 2 || !BN_hex2bn(&p, argv[1]) || !BN_dec2bn(&g, "2"))
		return 2;
	for (i = 0; i < 32; i++)
	{
		OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
		OSSL_PARAM *params;
		EVP_PKEY_CTX *ctx;
		EVP_PKEY *key = NULL;
		BIGNUM *x = NULL;

		if (!bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, g) ||
			!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, p) ||
			!(params = OSSL_PARAM_BLD_to_param(bld)))
			return 1;
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
		if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
			EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEY_PARAMETERS, params) <= 0)
			return 1;
		EVP_PKEY_CTX_free(ctx);
		ctx = EVP_PKEY_CTX_new(key, NULL);
		if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_generate(ctx, &key) <= 0 ||
			!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &x))
			return 1;
		if (BN_num_bits(x) < lo)
			lo = BN_num_bits(x);
		if (BN_num_bits(x) > hi)
			hi = BN_num_bits(x);
		BN_free(x);
		EVP_PKEY_free(key);
		EVP_PKEY_CTX_free(ctx);
		OSSL_PARAM_free(params);
		OSSL_PARAM_BLD_free(bld);
	}
	printf("%d %d\n", lo, hi);
	return 0;
}
