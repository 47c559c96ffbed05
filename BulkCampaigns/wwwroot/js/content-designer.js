// Loaded as a module by the content designer: cursor-aware placeholder insertion.

// Returns [selectionStart, selectionEnd] of the textarea with this id, or null when it is not on the page.
export function selection(id) {
    const element = document.getElementById(id);
    if (!element) return null;
    return [element.selectionStart ?? element.value.length, element.selectionEnd ?? element.value.length];
}

// Puts the cursor at the given position and focuses the textarea (after the server inserted text).
export function placeCursor(id, position) {
    const element = document.getElementById(id);
    if (!element) return;
    element.focus();
    element.setSelectionRange(position, position);
}

// Writes a value the page set (a template loaded, a snippet inserted) into the textarea; typing is never written back.
export function setValue(id, value) {
    const element = document.getElementById(id);
    if (!element || element.value === value) return;
    element.value = value;
}
