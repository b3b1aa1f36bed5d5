/* testing.h -- what every CUnit suite of softlin shares.
 *
 * Each test file defines one register function, called by run_tests.c;
 * it adds one suite (the module it tests) and one test per property.
 * Tolerances are named, in multiples of DBL_EPSILON where they bound
 * rounding, and failing values are printed with %a so they can be replayed.
 */
#ifndef SOFTLIN_TESTING_H
#define SOFTLIN_TESTING_H

#include <CUnit/CUnit.h>

/* Paths given to run_tests on its command line. */
extern const char *testing_softlin_path; /* the softlin binary */
extern const char *testing_data_dir;     /* tests/data */

/* Add a test to suite s, stopping the run if CUnit cannot. */
void testing_add(CU_pSuite s, const char *name, CU_TestFunc fn);

void register_linalg_suite(void);
void register_softmax_suite(void);
void register_attention_suite(void);
void register_stream_suite(void);
void register_linear_suite(void);
void register_limit_suite(void);
void register_gradient_suite(void);
void register_gradcheck_suite(void);
void register_rng_suite(void);
void register_gauss_suite(void);
void register_params_suite(void);
void register_cli_suite(void);
void register_oracle_suite(void);
void register_arb_suite(void);
void register_exact_suite(void);

#endif
