// Small helpers the Blazor components call through JS interop.
window.bulkCampaigns = {
    // Set once the interactive circuit has rendered; browser tests wait for it before clicking.
    circuitUp: false,
    markInteractive: () => { window.bulkCampaigns.circuitUp = true; },
    // The browser's IANA time zone, for showing times where the user is (see UserClock).
    timeZone: () => Intl.DateTimeFormat().resolvedOptions().timeZone || null,
    theme: {
        isDark: () => {
            const saved = localStorage.getItem("bulkcampaigns.theme");
            if (saved) return saved === "dark";
            return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
        },
        remember: (dark) => localStorage.setItem("bulkcampaigns.theme", dark ? "dark" : "light"),
    },
};
