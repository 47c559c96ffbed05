namespace BulkCampaigns.Operations;

/// <summary>What asking to pause, resume, cancel or retry an operation came to.</summary>
public enum ControlResult
{
    Done,
    NotFound,

    /// <summary>The operation's status does not allow it (resuming one that is not paused, say).</summary>
    NotAllowed,
}
