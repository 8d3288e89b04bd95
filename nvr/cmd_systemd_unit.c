/* SPDX-License-Identifier: MIT */
/*
 * nvr systemd-unit: prints an nvr.service for a config whose network
 * allow-list (IPAddressAllow=) is exactly the addresses of the config's
 * cameras that pass the air-gap rules, with everything else denied, and
 * the rest of systemd's confinement (read-only system, storage as the only
 * writable path, no capabilities, a system call filter). Cameras are
 * resolved the way `nvr run` resolves them (IP literal or /etc/hosts; DNS
 * only with allow_dns). An IPv4-mapped IPv6 address (::ffff:a.b.c.d),
 * which the rules treat as its IPv4 address, is listed as that IPv4
 * address: the connection leaves as IPv4, and systemd's filter matches
 * the packets, not the socket's family.
 */
#include "config.h"
#include "nvr/cmd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvr/check.h"

/* Unit file values must not break the line structure, split into words
 * or expand as specifiers (%). */
static int unit_safe(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s <= 0x20 || *s == '\\' || *s == '"' || *s == '%' ||
            *s == '\'')
            return 0;
    }
    return 1;
}

/* The address as IPAddressAllow= must list it: an IPv4-mapped IPv6
 * address as its IPv4 form, anything else as it is. Returns out. */
static const char *unit_addr(const char *addr, char *out, size_t size)
{
    struct in6_addr a6;

    if (inet_pton(AF_INET6, addr, &a6) == 1 && IN6_IS_ADDR_V4MAPPED(&a6) &&
        inet_ntop(AF_INET, &a6.s6_addr[12], out, (socklen_t)size))
        return out;
    snprintf(out, size, "%s", addr);
    return out;
}

/* Whether an enabled camera before index `upto` has the address addr
 * (as unit_addr() lists it). */
static int unit_seen(const struct nvr_config *cfg, int upto, const char *addr)
{
    char why[CHECK_MSG_MAX];

    for (int i = 0; i < upto; i++) {
        struct check_target t;
        int dns, same;

        if (!cfg->cameras[i].enabled ||
            check_camera_target(cfg, &cfg->cameras[i], NULL, &t, &dns, why,
                                sizeof(why)) < 0)
            continue;
        {
            char listed[INET6_ADDRSTRLEN + 8];

            same = strcmp(unit_addr(t.addr, listed, sizeof(listed)), addr) == 0;
        }
        memset(&t, 0, sizeof(t));
        if (same)
            return 1;
    }
    return 0;
}

static void print_unit(const struct nvr_config *cfg, const char *cfg_path,
                       const char *exe, const char *user)
{
    char why[CHECK_MSG_MAX];

    printf(
        "# nvr.service for %s, written by 'nvr systemd-unit' (nvr %s).\n"
        "# Install: nvr systemd-unit -c %s >/etc/systemd/system/nvr.service\n"
        "# The service user needs read access to the config and password\n"
        "# files and owns the storage directory:\n"
        "#   useradd --system --home-dir %s --shell /usr/sbin/nologin %s\n"
        "[Unit]\n"
        "Description=nvr network video recorder\n"
        "After=network-online.target\n"
        "Wants=network-online.target\n\n"
        "[Service]\n"
        "Type=exec\n"
        "ExecStart=%s run -c %s\n"
        "User=%s\n"
        "Group=%s\n"
        "Restart=on-failure\n"
        "RestartSec=5s\n"
        "TimeoutStopSec=30s\n\n",
        cfg_path, NVR_VERSION, cfg_path, cfg->storage_path, user, exe, cfg_path,
        user, user);
    printf("# The network: the cameras below, nothing else, and no DNS.\n");
    printf("IPAddressDeny=any\n");
    printf("IPAddressAllow=");
    for (int i = 0, first = 1; i < cfg->n_cameras; i++) {
        const struct nvr_camera_config *cam = &cfg->cameras[i];
        char listed[INET6_ADDRSTRLEN + 8];
        struct check_target t;
        int dns;

        if (!cam->enabled)
            continue;
        if (check_camera_target(cfg, cam, NULL, &t, &dns, why, sizeof(why)) < 0)
            continue;
        unit_addr(t.addr, listed, sizeof(listed));
        if (!unit_seen(cfg, i, listed)) {
            printf("%s%s", first ? "" : " ", listed);
            first = 0;
        }
        memset(&t, 0, sizeof(t));
    }
    printf("\n");
    for (int i = 0; i < cfg->n_cameras; i++) {
        const struct nvr_camera_config *cam = &cfg->cameras[i];
        char listed[INET6_ADDRSTRLEN + 8];
        struct check_target t;
        int dns;

        if (!cam->enabled) {
            printf("# camera %s: disabled, not listed\n", cam->name);
            continue;
        }
        if (check_camera_target(cfg, cam, NULL, &t, &dns, why, sizeof(why)) <
            0) {
            printf("# refused, not listed: %s\n", why);
            continue;
        }
        unit_addr(t.addr, listed, sizeof(listed));
        printf("# camera %s: %s port %u%s%s%s\n", cam->name, t.addr,
               (unsigned)t.port,
               strcmp(listed, t.addr) != 0 ? ", listed as " : "",
               strcmp(listed, t.addr) != 0 ? listed : "",
               dns ? " (resolved by DNS now)" : "");
        memset(&t, 0, sizeof(t));
    }
    if (cfg->allow_dns)
        printf("# allow_dns = true: add your DNS servers to IPAddressAllow=,\n"
               "# nvr resolves camera names once, at start-up.\n");
    printf("# No AF_UNIX: nvr opens no local sockets.\n"
           "RestrictAddressFamilies=AF_INET AF_INET6\n\n");
    printf("# The file system: read-only, except the storage directory.\n"
           "ProtectSystem=strict\n"
           "ReadWritePaths=%s\n"
           "ProtectHome=yes\n"
           "PrivateTmp=yes\n"
           "PrivateMounts=yes\n"
           "PrivateDevices=yes\n"
           "DevicePolicy=closed\n"
           "ProtectProc=invisible\n"
           "ProcSubset=pid\n"
           "# Group-readable: operators in the service's group may read.\n"
           "UMask=0027\n\n",
           cfg->storage_path);
    printf("# Privileges: none.\n"
           "NoNewPrivileges=yes\n"
           "CapabilityBoundingSet=\n"
           "AmbientCapabilities=\n"
           "PrivateUsers=yes\n"
           "RestrictSUIDSGID=yes\n"
           "RestrictNamespaces=yes\n"
           "RestrictRealtime=yes\n"
           "LockPersonality=yes\n"
           "MemoryDenyWriteExecute=yes\n"
           "RemoveIPC=yes\n"
           "KeyringMode=private\n"
           "ProtectKernelTunables=yes\n"
           "ProtectKernelModules=yes\n"
           "ProtectKernelLogs=yes\n"
           "ProtectControlGroups=yes\n"
           "ProtectClock=yes\n"
           "ProtectHostname=yes\n"
           "LimitCORE=0\n\n");
    printf("# System calls: what a service needs, minus privileged ones.\n"
           "SystemCallArchitectures=native\n"
           "SystemCallFilter=@system-service\n"
           "SystemCallFilter=~@privileged @resources\n"
           "SystemCallErrorNumber=EPERM\n\n"
           "[Install]\n"
           "WantedBy=multi-user.target\n");
}

static int unit_exec(const struct cli_args *a, const struct nvr_config *cfg,
                     struct catalog *cat)
{
    const char *exe = cli_args_get(a, "exec"), *user = cli_args_get(a, "user");
    char cfg_abs[PATH_MAX], exe_abs[PATH_MAX];

    if (!user)
        user = "nvr";
    if (!realpath(cfg->path, cfg_abs))
        snprintf(cfg_abs, sizeof(cfg_abs), "%s", cfg->path);
    if (!exe) {
        ssize_t n = readlink("/proc/self/exe", exe_abs, sizeof(exe_abs) - 1);

        if (n <= 0)
            snprintf(exe_abs, sizeof(exe_abs), "/usr/local/bin/nvr");
        else
            exe_abs[n] = '\0';
        exe = exe_abs;
    }
    if (!unit_safe(cfg_abs) || !unit_safe(exe) || !unit_safe(user) ||
        !unit_safe(cfg->storage_path) || !*user || strchr(user, ' ') ||
        cfg->storage_path[0] != '/') {
        fprintf(stderr, "nvr systemd-unit: the config path, binary path, "
                        "user and storage path must be plain text, and the "
                        "storage path absolute\n");
        return NVR_EXIT_USAGE;
    }
    print_unit(cfg, cfg_abs, exe, user);
    return NVR_EXIT_OK;
}

static const struct cli_option unit_options[] = {
    {"config", 'c', 1, "FILE", "the config file (absolute in the unit)"},
    {"exec", 0, 1, "PATH", "the nvr binary (default: this one)"},
    {"user", 0, 1, "NAME", "the service user (default: nvr)"},
    CLI_OPT_HELP,
    CLI_OPT_END,
};

const struct cli_entry cmd_systemd_unit_entry = {
    .name = "systemd-unit",
    .summary = "print an nvr.service confined to the cameras",
    .usage = "nvr systemd-unit [-c FILE] [--exec PATH] [--user NAME]",
    .about = "Prints an nvr.service for the config: IPAddressDeny=any with\n"
             "IPAddressAllow= listing exactly the cameras' addresses, the\n"
             "storage directory as the only writable path, no "
             "capabilities.",
    .options = unit_options,
    .flags = CLI_CONFIG,
    .exec = unit_exec,
};
