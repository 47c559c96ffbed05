# syntax=docker/dockerfile:1
# Build: docker build -t bulkcampaigns .
# Run:   docker run -p 8080:8080 -v bulkcampaigns-data:/app/data bulkcampaigns

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, on the project files only, so the layer is reused until a dependency changes.
COPY Directory.Build.props Directory.Packages.props .editorconfig ./
COPY BulkCampaigns/BulkCampaigns.csproj BulkCampaigns/
RUN dotnet restore BulkCampaigns/BulkCampaigns.csproj
COPY appsettings.json ./
COPY BulkCampaigns/ BulkCampaigns/
RUN dotnet publish BulkCampaigns/BulkCampaigns.csproj -c Release -o /app --no-restore /p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
# curl answers the health check; nothing else is added to the runtime image.
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
COPY --from=build /app ./
# The database, its WAL files and the data-protection keys live in data/; keep them on a volume.
RUN mkdir -p /app/data && chown -R app:app /app/data
USER app
VOLUME ["/app/data"]
ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    ConnectionStrings__BulkCampaigns="Data Source=/app/data/bulkcampaigns.db"
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD curl -fsS http://localhost:8080/healthz || exit 1
ENTRYPOINT ["dotnet", "BulkCampaigns.dll"]
