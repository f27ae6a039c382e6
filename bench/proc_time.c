/* proc_time.c - runs a command R times and prints the median wall time, CPU time and peak RSS of the child (wait4). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: proc_time [-r RUNS] [-o OUTFILE] -- COMMAND [ARGS]\n"
    "Runs COMMAND RUNS times (default 5), one after the other, with stdin from\n"
    "/dev/null and stdout to OUTFILE (default /dev/null).  Each run's rusage\n"
    "comes from wait4(), so it is that child's own.  Prints one line:\n"
    "  runs=R wall_ms=W cpu_ms=C maxrss_kb=K fails=F   (medians; fails: non-zero exits)\n";

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    long runs = 5;
    const char *outfile = "/dev/null";
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "-r") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            runs = strtol(argv[++i], &end, 10);
            if (errno || *end || runs < 1 || runs > 1000) {
                fputs(usage, stderr);
                return 2;
            }
        } else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            outfile = argv[++i];
        } else if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else {
            fputs(usage, stderr);
            return 2;
        }
    }
    if (i >= argc) {
        fputs(usage, stderr);
        return 2;
    }
    double *wall = calloc((size_t)runs, sizeof *wall);
    double *cpu = calloc((size_t)runs, sizeof *cpu);
    double *rss = calloc((size_t)runs, sizeof *rss);
    if (!wall || !cpu || !rss)
        return 1;
    int fails = 0;
    for (long r = 0; r < runs; r++) {
        double t0 = now_ms();
        pid_t pid = fork();
        if (pid < 0) {
            perror("proc_time: fork");
            return 1;
        }
        if (pid == 0) {
            int in = open("/dev/null", O_RDONLY);
            int out = open(outfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0)
                _exit(126);
            close(in);
            close(out);
            execvp(argv[i], argv + i);
            fprintf(stderr, "proc_time: %s: %s\n", argv[i], strerror(errno));
            _exit(127);
        }
        int status;
        struct rusage ru;
        while (wait4(pid, &status, 0, &ru) < 0) {
            if (errno != EINTR) {
                perror("proc_time: wait4");
                return 1;
            }
        }
        wall[r] = now_ms() - t0;
        cpu[r] = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
        rss[r] = (double)ru.ru_maxrss;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fails++;
    }
    printf("runs=%ld wall_ms=%.1f cpu_ms=%.1f maxrss_kb=%.0f fails=%d\n", runs,
           median(wall, (int)runs), median(cpu, (int)runs), median(rss, (int)runs), fails);
    free(wall);
    free(cpu);
    free(rss);
    return fails ? 1 : 0;
}
