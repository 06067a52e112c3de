<?php

declare(strict_types=1);

namespace TradingGrid\Chaos;

/**
 * Generates a mixed workload across every outbound flow, in the shape the Drupal hooks
 * enqueue it (operation, payload, ordering key, flow, entity), and knows how to check the
 * sandbox's final state against what was enqueued.
 *
 * Every enqueued change carries distinct content (a new revision or version), so the
 * sandbox applies each delivered row exactly once and counts any repeat as a duplicate.
 */
final class Workload
{
    /** Partners created before the run, referenced by issues and access requests. */
    public const SEED_PARTNERS = 20;

    private int $seq = 0;

    /** @var array<string,int> latest revision per partner */
    public array $partnerRevision = [];
    /** @var array<string,int> latest version per document */
    public array $documentVersion = [];
    /** @var array<string,bool> documents whose last change was a retraction */
    public array $documentRetracted = [];
    /** @var array<string,int> latest revision per catalog item */
    public array $catalogRevision = [];
    /** @var array<string,list<string>> onboarding steps per partner */
    public array $steps = [];
    /** @var array<string,list<string>> network users of the hub (loginId => roles given) */
    public array $networkUsers = [];

    /** The hub company the network users belong to (the sandbox's tenant). */
    public const HUB = 'GC51278300AS';

    public function __construct(private readonly string $run)
    {
    }

    /** @return list<array{op:string,payload:array,orderingKey:string,flow:string,entityType:string,entityId:string}> */
    public function seedPartners(): array
    {
        $ops = [];
        for ($i = 0; $i < self::SEED_PARTNERS; $i++) {
            $ops[] = $this->partner("{$this->run}-seed-$i");
        }
        return $ops;
    }

    /**
     * The next $n operations of the mix: about 30% partner upserts (new and updated),
     * 15% onboarding steps, 5% access requests, 5% network users (documented
     * Community Management: a create, then its role), 15% issues, 15% document versions
     * and retractions, 10% catalog, 5% notifications and portal metrics.
     *
     * @return list<array{op:string,payload:array,orderingKey:string,flow:string,entityType:string,entityId:string}>
     */
    public function next(int $n): array
    {
        $ops = [];
        while (count($ops) < $n) {
            $this->seq++;
            $k = $this->seq % 20;
            $partners = array_keys($this->partnerRevision);
            $existing = $partners[$this->seq % max(1, count($partners))] ?? "{$this->run}-seed-0";
            $ops[] = match (true) {
                $k < 4 => $this->partner("{$this->run}-p-" . intdiv($this->seq, 3)),
                $k < 6 => $this->partner($existing),
                $k < 9 => $this->step($existing),
                $k < 10 => $this->accessRequest($existing),
                $k < 11 => $this->networkUser(),
                $k < 14 => $this->issue(),
                $k < 16 => $this->document(),
                $k < 17 => $this->retract(),
                $k < 19 => $this->catalog(),
                default => intdiv($this->seq, 20) % 2 ? $this->notification() : $this->metrics(),
            };
        }
        return $ops;
    }

    private function row(string $op, array $payload, string $key, string $flow, string $type, string $id): array
    {
        return ['op' => $op, 'payload' => $payload, 'orderingKey' => $key, 'flow' => $flow, 'entityType' => $type, 'entityId' => $id];
    }

    private function partner(string $ext): array
    {
        $rev = ($this->partnerRevision[$ext] ?? 0) + 1;
        $this->partnerRevision[$ext] = $rev;
        return $this->row('partner.upsert', [
            'externalId' => $ext, 'companyName' => "Chaos Partner $ext r$rev", 'partnerType' => ['supplier', 'carrier', 'distributor'][$rev % 3],
            'country' => 'DE', 'contactEmail' => "ops+$rev@" . strtolower(str_replace('_', '-', $ext)) . '.example',
            'communities' => ['logistics-eu'], 'revision' => $rev,
        ], "partner:$ext", 'partner', 'user', $ext);
    }

    private function step(string $ext): array
    {
        $n = count($this->steps[$ext] ?? []);
        $step = "step-$n";
        $this->steps[$ext][] = $step;
        return $this->row('onboarding.step', ['externalId' => $ext, 'stepId' => $step, 'status' => 'completed',
            'completedAt' => '2026-11-25T10:00:00Z'], "partner:$ext", 'onboarding', 'user', $ext);
    }

    private function accessRequest(string $ext): array
    {
        return $this->row('access_request.create', ['externalId' => $ext, 'communityId' => 'suppliers-global',
            'reason' => "chaos request {$this->seq}"], "partner:$ext", 'partner', 'user', $ext);
    }

    /** A new network user of the hub, or the role of the last one created. */
    private function networkUser(): array
    {
        $last = array_key_last($this->networkUsers);
        if ($last !== null && $this->networkUsers[$last] === []) {
            $this->networkUsers[$last][] = 'Partner User';
            return $this->row('company_user.roles', ['companyId' => self::HUB, 'loginId' => $last, 'action' => 'add',
                'roles' => [['roleName' => 'Partner User']]], "network_user:$last", 'network_user', 'user', $last);
        }
        $login = "chaos-{$this->run}-{$this->seq}@partners.example";
        $this->networkUsers[$login] = [];
        return $this->row('company_user.create', ['companyId' => self::HUB, 'user' => [
            'loginId' => $login, 'firstName' => 'Chaos', 'lastName' => "User {$this->seq}", 'type' => 'Web',
            'contactInformation' => ['email' => $login],
        ]], "network_user:$login", 'network_user', 'user', $login);
    }

    private function issue(): array
    {
        $ext = "{$this->run}-issue-{$this->seq}";
        return $this->row('issue.create', ['externalId' => $ext, 'type' => 'shipment_discrepancy', 'title' => "Short delivery {$this->seq}",
            'description' => 'Pallets missing at the dock.', 'partnerExternalId' => "{$this->run}-seed-" . ($this->seq % self::SEED_PARTNERS),
            'priority' => 'normal', 'references' => ['shipment' => "SHP-{$this->seq}"]], "issue:$ext", 'issue', 'node', $ext);
    }

    private function document(): array
    {
        $doc = "{$this->run}-doc-" . ($this->seq % 37);
        $v = ($this->documentVersion[$doc] ?? 0) + 1;
        $this->documentVersion[$doc] = $v;
        unset($this->documentRetracted[$doc]);
        return $this->row('document.publish', ['documentId' => $doc, 'version' => $v, 'title' => "Procedure $doc", 'language' => 'en',
            'audiences' => ['communities' => ['logistics-eu']], 'sha256' => hash('sha256', "$doc/$v"), 'approved' => true,
            'effectiveDate' => '2026-12-01'], "document:$doc", 'document', 'node', $doc);
    }

    private function retract(): array
    {
        $doc = "{$this->run}-doc-" . ($this->seq % 37);
        if (!isset($this->documentVersion[$doc]) || isset($this->documentRetracted[$doc])) {
            return $this->document();
        }
        $this->documentRetracted[$doc] = true;
        return $this->row('document.retract', ['documentId' => $doc, 'reason' => 'superseded by the manual'], "document:$doc",
            'document', 'node', $doc);
    }

    private function catalog(): array
    {
        $item = "{$this->run}-sku-" . ($this->seq % 53);
        $rev = ($this->catalogRevision[$item] ?? 0) + 1;
        $this->catalogRevision[$item] = $rev;
        return $this->row('catalog.upsert', ['itemId' => $item, 'sku' => "SKU{$this->seq}", 'title' => "Item $item r$rev", 'kind' => 'specification',
            'audiences' => ['partnerTypes' => ['supplier']], 'revision' => $rev], "catalog:$item", 'catalog', 'node', $item);
    }

    private function notification(): array
    {
        return $this->row('notification.create', ['communityId' => 'logistics-eu', 'kind' => 'notice',
            'title' => "Notice {$this->seq}", 'body' => 'Chaos notice'], 'notification:logistics-eu', 'notification', 'notification', (string) $this->seq);
    }

    private function metrics(): array
    {
        return $this->row('metrics.portal', ['period' => sprintf('2026-%02d-%02d', 1 + $this->seq % 12, 1 + $this->seq % 28),
            'figures' => ['contentViews' => $this->seq]], 'metrics', 'metrics', 'metrics', (string) $this->seq);
    }
}
