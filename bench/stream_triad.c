/* STREAM-style triad, a[i] = b[i] + s * c[i] over float arrays far larger
 * than the caches, on OMP_NUM_THREADS threads. Prints the best of 10 runs in
 * GB/s, counting 12 bytes per element (two reads and a write, as STREAM
 * counts; the write-allocate read is not counted). bench/weight_dtype_bench.py
 * builds and runs it to get the machine's memory bandwidth at 1 and all
 * threads. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 64L << 20; /* 64 Mi floats: 256 MiB per array */
  float *a = aligned_alloc(64, n * 4), *b = aligned_alloc(64, n * 4), *c = aligned_alloc(64, n * 4);
  if (!a || !b || !c)
    return 1;
#pragma omp parallel for schedule(static) /* first touch on the threads that use them */
  for (long i = 0; i < n; ++i) {
    a[i] = 0;
    b[i] = 1;
    c[i] = 2;
  }
  double best = 0;
  for (int r = 0; r < 10; ++r) {
    double t = omp_get_wtime();
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; ++i)
      a[i] = b[i] + 3.0f * c[i];
    t = omp_get_wtime() - t;
    if (12.0 * n / t / 1e9 > best)
      best = 12.0 * n / t / 1e9;
  }
  printf("%.3f\n", best + 0 * a[n / 2]);
  return 0;
}
