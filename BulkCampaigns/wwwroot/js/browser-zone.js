// The IANA time zone the browser runs in, e.g. "Europe/Paris"; the wizard's default zone.
export function timeZone() {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
}
