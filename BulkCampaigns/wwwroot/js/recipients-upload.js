// The group page's CSV upload. The file goes to the import endpoint over plain HTTP (a 100 MB file through the
// Blazor circuit would be slow). The page reads the file's first bytes for the column preview as a stream, which
// Blazor sends in chunks below the circuit's message limit (a 64 KB argument passed the 32 KB limit and closed it).
export function attach(dropZone, input, dotnet) {
    const pick = async () => {
        const file = input.files && input.files[0];
        if (!file) return;
        await dotnet.invokeMethodAsync("FilePicked", file.name, file.size);
    };
    input.addEventListener("change", pick);
    dropZone.addEventListener("dragover", e => { e.preventDefault(); dropZone.classList.add("drop-active"); });
    dropZone.addEventListener("dragleave", () => dropZone.classList.remove("drop-active"));
    dropZone.addEventListener("drop", e => {
        e.preventDefault();
        dropZone.classList.remove("drop-active");
        if (e.dataTransfer && e.dataTransfer.files.length > 0) {
            input.files = e.dataTransfer.files;
            pick();
        }
    });
    // Lets a test (or a script) know the picker is live before it chooses a file.
    input.dataset.attached = "true";
}

// The first `bytes` of the chosen file (File.slice reads only those); Blazor streams the blob to the page.
export function head(input, bytes) {
    const file = input.files && input.files[0];
    return file ? file.slice(0, bytes) : new Uint8Array(0);
}

export function upload(input, url, dotnet) {
    return new Promise(resolve => {
        const file = input.files && input.files[0];
        if (!file) { resolve({ status: 0, body: "" }); return; }
        const xhr = new XMLHttpRequest();
        xhr.open("POST", url);
        xhr.setRequestHeader("Content-Type", "text/csv");
        xhr.setRequestHeader("X-Requested-With", "BulkCampaigns");
        let last = 0;
        xhr.upload.onprogress = e => {
            const now = Date.now();
            if (now - last > 250 || e.loaded === e.total) {
                last = now;
                dotnet.invokeMethodAsync("UploadProgress", e.loaded, e.total);
            }
        };
        xhr.onload = () => resolve({ status: xhr.status, body: xhr.responseText });
        xhr.onerror = () => resolve({ status: 0, body: "" });
        xhr.send(file);
    });
}

export function clear(input) {
    input.value = "";
}
